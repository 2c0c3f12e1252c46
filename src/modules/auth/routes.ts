import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { ok, successSchema } from '../../lib/envelope.js';
import { compiledSerializer } from '../../lib/response-serializer.js';
import type { AuthGuard } from '../../plugins/auth-guard.js';
import { SIGNED_IN as signedIn } from '../../plugins/docs.js';
import type { PerIpLimit } from '../../plugins/security.js';
import {
  caller,
  clearAuthCookies,
  clientInfo,
  REFRESH_COOKIE,
  readAccessToken,
  setAuthCookies,
} from './http.js';
import type { PasswordService } from './passwords.js';
import {
  changePasswordBody,
  forgotPasswordBody,
  loginBody,
  loginResult,
  refreshBody,
  resetPasswordBody,
  sessionIdParams,
  sessionView,
  setPasswordBody,
  tokenPair,
} from './schemas.js';
import type { AuthService } from './service.js';

const nothing = successSchema(z.null());

export const FORGOT_PASSWORD_MESSAGE =
  'If an account exists for this email, a password reset link has been sent';

export interface AuthRoutesOptions {
  auth: AuthService;
  passwords: PasswordService;
  guard: AuthGuard;
  config: Config;
  /** Per-IP limit on the routes that guess secrets, send mail or hash passwords (per account: the services). */
  authLimit: PerIpLimit;
}

export const authRoutes: FastifyPluginAsyncZod<AuthRoutesOptions> = async (
  app,
  { auth, passwords, guard, config, authLimit: perIpLimit },
) => {
  // The cookie routes answer a form another site posts with 403, before its body is read.
  const ownOriginOnly = guard.requireOwnOrigin();

  app.post(
    '/login',
    {
      config: perIpLimit,
      onRequest: ownOriginOnly,
      // Compiled from the schema: the Zod check of the profile was the largest serialising cost of a sign-in.
      serializerCompiler: compiledSerializer,
      schema: {
        tags: ['Auth'],
        summary: 'Sign in with email and password; sets the accessToken and refreshToken cookies',
        body: loginBody,
        response: { 200: successSchema(loginResult) },
      },
    },
    async (request, reply) => {
      const { issued, user } = await auth.login(request.body, clientInfo(request));
      setAuthCookies(reply, config, issued);
      return ok(reply, 'User Logged In Successfully', {
        accessToken: issued.accessToken,
        refreshToken: issued.refreshToken,
        user,
      });
    },
  );

  app.post(
    '/refresh-token',
    {
      onRequest: ownOriginOnly,
      serializerCompiler: compiledSerializer,
      schema: {
        tags: ['Auth'],
        summary: 'Exchange a refresh token (cookie or body) for a new pair; the old one is spent',
        body: refreshBody,
        response: { 200: successSchema(tokenPair) },
      },
    },
    async (request, reply) => {
      const presented = request.body?.refreshToken ?? request.cookies[REFRESH_COOKIE];
      const issued = await auth.refresh(presented, clientInfo(request));
      setAuthCookies(reply, config, issued);
      return ok(reply, 'New Access Token Retrieved Successfully', {
        accessToken: issued.accessToken,
        refreshToken: issued.refreshToken,
      });
    },
  );

  app.post(
    '/logout',
    {
      onRequest: ownOriginOnly,
      schema: {
        tags: ['Auth'],
        summary: 'End the current session and clear both cookies',
        response: { 200: nothing },
      },
    },
    async (request, reply) => {
      await auth.logout(
        { accessToken: readAccessToken(request).token, refreshToken: request.cookies[REFRESH_COOKIE] },
        clientInfo(request),
      );
      clearAuthCookies(reply, config);
      return ok(reply, 'User Logged Out Successfully', null);
    },
  );

  app.post(
    '/logout-all',
    {
      preValidation: guard.requireAuth(),
      schema: {
        tags: ['Auth'],
        summary: 'End every session of the caller, on every device',
        security: signedIn,
        response: { 200: successSchema(z.object({ sessionsEnded: z.number().int() })) },
      },
    },
    async (request, reply) => {
      const sessionsEnded = await auth.logoutAll(caller(request), clientInfo(request));
      clearAuthCookies(reply, config);
      return ok(reply, 'Logged Out Of All Sessions Successfully', { sessionsEnded });
    },
  );

  app.get(
    '/sessions',
    {
      preValidation: guard.requireAuth(),
      schema: {
        tags: ['Auth'],
        summary: "The caller's active sessions (lastUsedAt = sign-in or last refresh)",
        security: signedIn,
        response: { 200: successSchema(z.array(sessionView)) },
      },
    },
    async (request, reply) =>
      ok(reply, 'Sessions Retrieved Successfully', await auth.sessions(caller(request))),
  );

  app.delete(
    '/sessions/:id',
    {
      preValidation: guard.requireAuth(),
      schema: {
        tags: ['Auth'],
        summary: "End one of the caller's own sessions",
        security: signedIn,
        params: sessionIdParams,
        response: { 200: nothing },
      },
    },
    async (request, reply) => {
      await auth.revokeOwnSession(caller(request), request.params.id, clientInfo(request));
      return ok(reply, 'Session Revoked Successfully', null);
    },
  );

  app.post(
    '/change-password',
    {
      preValidation: guard.requireAuth(),
      schema: {
        tags: ['Auth'],
        summary: "Change the password (needs the old one); ends the caller's other sessions",
        security: signedIn,
        body: changePasswordBody,
        response: { 200: nothing },
      },
    },
    async (request, reply) => {
      await passwords.changePassword(caller(request), request.body, clientInfo(request));
      return ok(reply, 'Password Changed Successfully', null);
    },
  );

  app.post(
    '/set-password',
    {
      preValidation: guard.requireAuth(),
      schema: {
        tags: ['Auth'],
        summary: 'Create a password for an account that has none (e.g. Google sign-up)',
        security: signedIn,
        body: setPasswordBody,
        response: { 200: nothing },
      },
    },
    async (request, reply) => {
      await passwords.setPassword(caller(request), request.body.password, clientInfo(request));
      return ok(reply, 'Password Set Successfully', null);
    },
  );

  app.post(
    '/forgot-password',
    {
      config: perIpLimit,
      schema: {
        tags: ['Auth'],
        summary: 'Mail a single-use, 10-minute reset link (same answer whether or not the account exists)',
        body: forgotPasswordBody,
        response: { 200: nothing },
      },
    },
    async (request, reply) => {
      await passwords.forgotPassword(request.body.email, clientInfo(request));
      return ok(reply, FORGOT_PASSWORD_MESSAGE, null);
    },
  );

  app.post(
    '/reset-password',
    {
      config: perIpLimit,
      schema: {
        tags: ['Auth'],
        summary: 'Set a new password with the emailed reset token in Authorization (raw or Bearer)',
        description:
          'The reset token is not an access token, and an access token is not accepted. The token is checked ' +
          'first (401), then the password policy (400 naming newPassword, the token stays usable). Ends every ' +
          'session.',
        body: resetPasswordBody,
        response: { 200: nothing },
      },
    },
    async (request, reply) => {
      const resetToken = request.headers.authorization?.trim().replace(/^Bearer\s+/i, '') || undefined;
      await passwords.resetPassword(resetToken, request.body, clientInfo(request));
      return ok(reply, 'Password Reset Successfully', null);
    },
  );
};
