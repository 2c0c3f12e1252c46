import { eq } from 'drizzle-orm';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userAuths, users } from '../../src/db/schema/index.js';
import { successSchema } from '../../src/lib/envelope.js';
import { publicUser } from '../../src/modules/users/schemas.js';
import { buildServices } from '../../src/services.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createUser } from '../helpers/factories.js';

// GET /user/me answers through a serializer compiled from its schema instead of the Zod check: its body must be
// byte for byte what the Zod check and JSON.stringify wrote for the same profile.
let t: TestApp;
let services: ReturnType<typeof buildServices>;

beforeAll(async () => {
  t = await buildTestApp();
  services = buildServices(t.ctx, t.app.log);
});
afterAll(() => t?.close());

const zodWritten = zodSerializerCompiler({
  schema: successSchema(publicUser),
  method: 'GET',
  url: '/api/v1/user/me',
  httpStatus: '200',
} as never) as (payload: unknown) => string;

async function expectSameBody(user: { id: string; auth: { authorization: string } }) {
  const res = await t.app.inject({ method: 'GET', url: '/api/v1/user/me', headers: user.auth });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  const profile = await services.users.getById(user.id);
  const expected = zodWritten({
    statusCode: 200,
    success: true,
    message: 'Your profile Retrieved Successfully',
    data: profile,
  });
  expect(res.body).toBe(expected);
  expect(res.headers['content-length']).toBe(String(Buffer.byteLength(expected)));
}

describe('GET /user/me body', () => {
  it('is unchanged for a profile with phone and address', async () => {
    await expectSameBody(await createUser(t.ctx));
  });

  it('is unchanged with every nullable field null', async () => {
    await expectSameBody(await createUser(t.ctx, { phone: null, address: null, role: 'GUIDE' }));
  });

  it('is unchanged with quotes, escapes and non-ASCII text, a picture and several sign-in methods', async () => {
    const user = await createUser(t.ctx, {
      name: 'Ünïcødé "Quoted" \\ back\tslash 🙂',
      address: 'Line one\nline two </script> \u2028',
    });
    await t.ctx.db
      .update(users)
      .set({ picture: 'https://img.example/a b?x="1"&y=ü' })
      .where(eq(users.id, user.id));
    await t.ctx.db
      .insert(userAuths)
      .values({ userId: user.id, provider: 'google', providerId: `g-${user.id}` });
    await expectSameBody(user);
  });
});
