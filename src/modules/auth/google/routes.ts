import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Config } from '../../../config.js';
import { clientInfo, setAuthCookies } from '../http.js';
import { callbackQuery, redirectResponse, startQuery } from './schemas.js';
import { FLOW_TTL_SECONDS, type GoogleSignInService } from './service.js';

export const GOOGLE_FLOW_COOKIE = 'googleSignIn';

/**
 * The binding cookie must come back on the provider's cross-site redirect, a top-level GET: `lax` allows
 * that (`strict` would not), whatever the auth cookies use.
 */
function flowCookieOptions(config: Config, path: string): CookieSerializeOptions {
  return {
    httpOnly: true,
    secure: config.cookie.secure,
    sameSite: config.cookie.sameSite === 'none' ? 'none' : 'lax',
    path,
  };
}

/** Registered under `/api/v1/auth`. */
export const googleAuthRoutes: FastifyPluginAsyncZod<{
  googleSignIn: GoogleSignInService;
  config: Config;
}> = async (app, { googleSignIn: service, config }) => {
  const cookieOptions = flowCookieOptions(config, `${app.prefix}/google`);

  app.get(
    '/google',
    {
      schema: {
        tags: ['Auth'],
        summary: 'Start Google sign-in (full-page navigation): 302 to Google',
        description:
          'Authorization-code flow with PKCE (S256), `state` and `nonce`, kept server-side for 10 minutes ' +
          'and usable once. `redirect` is the front-end path to land on afterwards; only relative paths ' +
          '(a single leading `/`, no backslash, spaces or control characters) are accepted, anything else ' +
          'is a 400. 503 when Google sign-in is not configured, 502 when the provider cannot be reached.',
        querystring: startQuery,
        response: { 302: redirectResponse },
      },
    },
    async (request, reply) => {
      const started = await service.start(request.query.redirect ?? '/', request.cookies[GOOGLE_FLOW_COOKIE]);
      reply.setCookie(GOOGLE_FLOW_COOKIE, started.binding, { ...cookieOptions, maxAge: FLOW_TTL_SECONDS });
      return reply.redirect(started.location, 302);
    },
  );

  app.get(
    '/google/callback',
    {
      schema: {
        tags: ['Auth'],
        summary: "Google's redirect back: sign in, set the cookies, 302 to the front end",
        description:
          'The code is exchanged with the stored PKCE verifier and the ID token checked (signature, issuer, ' +
          'audience, nonce). Accounts are matched by Google subject; a password account with the same ' +
          'Google-verified email is linked; an unknown one is created, verified. Success: session cookies ' +
          'and 302 to `FRONTEND_URL` + the saved path. Any failure (unknown, expired or reused state, ' +
          'another browser, provider error, blocked or deleted account): 302 to ' +
          '`FRONTEND_URL/login?error=<message>` without a session.',
        querystring: callbackQuery,
        response: { 302: redirectResponse },
      },
    },
    async (request, reply) => {
      const rawQuery = request.url.split('?')[1] ?? '';
      const result = await service.complete(
        rawQuery,
        request.cookies[GOOGLE_FLOW_COOKIE],
        clientInfo(request),
      );
      if (result.session) setAuthCookies(reply, config, result.session);
      return reply.redirect(result.location, 302);
    },
  );
};
