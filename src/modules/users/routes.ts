import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { flatListSchema, ok, successSchema } from '../../lib/envelope.js';
import { compiledSerializer } from '../../lib/response-serializer.js';
import type { AuthGuard } from '../../plugins/auth-guard.js';
import { SIGNED_IN as signedIn } from '../../plugins/docs.js';
import type { PerIpLimit } from '../../plugins/security.js';
import type { AccountSecurityService } from '../auth/account-security.js';
import { caller, callerProfile, clientInfo } from '../auth/http.js';
import { securityEvent, securityEventListQuery } from '../auth/schemas.js';
import {
  projectedUser,
  publicUser,
  registerBody,
  updateUserBody,
  userIdParams,
  userListQuery,
} from './schemas.js';
import type { UsersService } from './service.js';

export interface UserRoutesOptions {
  users: UsersService;
  accountSecurity: AccountSecurityService;
  guard: AuthGuard;
  /** Each registration hashes a password: limited per IP like sign-in. */
  authLimit: PerIpLimit;
}

export const userRoutes: FastifyPluginAsyncZod<UserRoutesOptions> = async (
  app,
  { users, accountSecurity, guard, authLimit: perIpLimit },
) => {
  const { requireAuth, requireAuthWithProfile } = guard;

  app.post(
    '/register',
    {
      config: perIpLimit,
      schema: {
        tags: ['Users'],
        summary: 'Create an account (unverified until the emailed code is confirmed)',
        body: registerBody,
        response: { 201: successSchema(publicUser) },
      },
    },
    async (request, reply) =>
      ok(reply, 'User Created Successfully', await users.register(request.body, clientInfo(request)), {
        statusCode: 201,
      }),
  );

  app.get(
    '/me',
    {
      preValidation: requireAuthWithProfile(),
      schema: {
        tags: ['Users'],
        summary: "The caller's profile",
        security: signedIn,
        response: { 200: successSchema(publicUser) },
      },
      // The hottest signed-in read: written by a serializer compiled from the schema, without the Zod check.
      serializerCompiler: compiledSerializer,
    },
    async (request, reply) =>
      ok(reply, 'Your profile Retrieved Successfully', users.me(callerProfile(request))),
  );

  app.get(
    '/all-users',
    {
      preValidation: requireAuth('ADMIN', 'SUPER_ADMIN'),
      schema: {
        tags: ['Users'],
        summary: 'List users (search: name, email, address; filters: role, isActive, isVerified, isDeleted)',
        security: signedIn,
        querystring: userListQuery,
        response: { 200: flatListSchema(projectedUser) },
      },
    },
    async (request, reply) => {
      const { items, meta } = await users.list(request.query);
      return ok(reply, 'All Users Retrieved Successfully', items, { meta });
    },
  );

  app.get(
    '/security-events',
    {
      preValidation: requireAuth('SUPER_ADMIN'),
      schema: {
        tags: ['Users'],
        summary:
          'Security log: sign-ins, failures, refresh-token reuse, role changes, blocks, password changes',
        security: signedIn,
        querystring: securityEventListQuery,
        response: { 200: flatListSchema(securityEvent) },
      },
    },
    async (request, reply) => {
      const { items, meta } = await accountSecurity.listEvents(request.query);
      return ok(reply, 'Security Events Retrieved Successfully', items, { meta });
    },
  );

  app.get(
    '/:id',
    {
      preValidation: requireAuth('ADMIN', 'SUPER_ADMIN'),
      schema: {
        tags: ['Users'],
        summary: 'One user by id',
        security: signedIn,
        params: userIdParams,
        response: { 200: successSchema(publicUser) },
      },
    },
    async (request, reply) =>
      ok(reply, 'User Retrieved Successfully', await users.getById(request.params.id)),
  );

  app.patch(
    '/:id',
    {
      preValidation: requireAuth(),
      schema: {
        tags: ['Users'],
        summary: 'Update a user (answers 201, as legacy clients expect)',
        description:
          'USER/GUIDE: only themselves, only name, phone, address, picture. ADMIN: any non-super-admin user, ' +
          'role (never SUPER_ADMIN), isActive, isDeleted, isVerified. SUPER_ADMIN: anyone, but the last active ' +
          "super admin cannot be demoted, blocked or deleted. Blocking, deleting or a role change ends the user's sessions.",
        security: signedIn,
        params: userIdParams,
        body: updateUserBody,
        response: { 201: successSchema(publicUser) },
      },
    },
    async (request, reply) =>
      ok(
        reply,
        'User Updated Successfully',
        await users.update(caller(request), request.params.id, request.body, clientInfo(request)),
        { statusCode: 201 },
      ),
  );
};
