import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessions, userAuths, users } from '../../src/db/schema/index.js';
import { seedSuperAdmin } from '../../src/db/seed.js';
import { newId } from '../../src/lib/ids.js';
import {
  type AccountsTestApp,
  API,
  buildAccountsApp,
  expectNoSecretsInResponses,
  STRONG_PASSWORD,
} from '../auth/helpers.js';
import { createUser, type TestUser } from '../helpers/factories.js';

let t: AccountsTestApp;
let admin: TestUser;
let superAdmin: TestUser;

beforeAll(async () => {
  t = await buildAccountsApp();
  admin = await createUser(t.ctx, { role: 'ADMIN', name: 'Admin Person' });
  superAdmin = await createUser(t.ctx, { role: 'SUPER_ADMIN', name: 'Super Person' });
});
afterAll(() => t.close());

const register = (payload: object) => t.app.inject({ method: 'POST', url: `${API}/user/register`, payload });
const get = (url: string, who?: TestUser) =>
  t.app.inject({ method: 'GET', url: `${API}${url}`, headers: who ? who.auth : {} });
const patch = (id: string, payload: object, who?: TestUser) =>
  t.app.inject({ method: 'PATCH', url: `${API}/user/${id}`, payload, headers: who ? who.auth : {} });
const paths = (res: { json(): { errorSources: { path: string }[] } }) =>
  res.json().errorSources.map((s) => s.path);
const liveSessionCount = async (userId: string) =>
  (await t.ctx.db.select().from(sessions).where(eq(sessions.userId, userId))).filter((s) => !s.revokedAt)
    .length;

const USER_KEYS = [
  '_id',
  'address',
  'auths',
  'createdAt',
  'email',
  'isActive',
  'isDeleted',
  'isVerified',
  'name',
  'phone',
  'picture',
  'role',
  'updatedAt',
];

describe('POST /user/register', () => {
  it('creates an unverified USER with the public shape only, phone and address included', async () => {
    const res = await register({
      name: 'Rahim',
      email: 'rahim@example.com',
      password: 'Passw0rd!',
      phone: '+8801712345678',
      address: 'Dhaka',
      isVerified: true,
    });
    expect(res.statusCode).toBe(201);
    const user = res.json().data;
    expect(Object.keys(user).sort()).toEqual(USER_KEYS);
    expect(user).toMatchObject({
      role: 'USER',
      isVerified: false,
      phone: '+8801712345678',
      address: 'Dhaka',
    });
    expect(user.createdAt).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
  });

  it('a duplicate email, in any case or spacing, is a 409 naming email', async () => {
    await register({ name: 'Karim', email: 'karim@example.com', password: STRONG_PASSWORD });
    const res = await register({ name: 'Karim Two', email: ' KARIM@example.com', password: STRONG_PASSWORD });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ success: false, code: 'CONFLICT' });
    expect(paths(res)).toEqual(['email']);
  });

  it('bad input is a 400 naming each field', async () => {
    const ok = { name: 'Valid Name', email: 'valid@example.com', password: STRONG_PASSWORD };
    const cases: [object, string][] = [
      [{ ...ok, name: undefined }, 'name'],
      [{ ...ok, name: 'A' }, 'name'],
      [{ ...ok, email: 'nope' }, 'email'],
      [{ ...ok, password: 'short' }, 'password'],
      [{ ...ok, password: 'y'.repeat(129) }, 'password'],
      [{ ...ok, password: 'password123' }, 'password'],
      [{ ...ok, phone: '12345' }, 'phone'],
      [{ ...ok, phone: '+8802712345678' }, 'phone'],
      [{ ...ok, address: 'x'.repeat(201) }, 'address'],
    ];
    for (const [payload, field] of cases) {
      const res = await register(payload);
      expect(res.statusCode, field).toBe(400);
      expect(paths(res)).toContain(field);
    }
  });

  it('a malformed email is "Invalid email address", however short, on every route that takes one', async () => {
    const routes: [string, object][] = [
      ['/user/register', { name: 'Valid Name', password: STRONG_PASSWORD }],
      ['/auth/login', { password: STRONG_PASSWORD }],
      ['/auth/forgot-password', {}],
      ['/otp/send', {}],
      ['/otp/verify', { otp: '123456' }],
    ];
    for (const [url, rest] of routes) {
      for (const email of ['ab', 'a@b', 'nope', 'no at sign.com', '']) {
        const res = await t.app.inject({ method: 'POST', url: `${API}${url}`, payload: { ...rest, email } });
        expect(res.statusCode, `${url} ${email}`).toBe(400);
        expect(res.json().errorSources, `${url} ${email}`).toContainEqual({
          path: 'email',
          message: 'Invalid email address',
        });
        expect(res.body, `${url} ${email}`).not.toMatch(/characters/);
      }
    }
  });
});

describe('GET /user/me', () => {
  it("returns the caller's profile", async () => {
    const user = await createUser(t.ctx, { name: 'Me Myself' });
    const res = await get('/user/me', user);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ success: true, message: 'Your profile Retrieved Successfully' });
    expect(res.json().data).toMatchObject({
      _id: user.id,
      email: user.email,
      name: 'Me Myself',
      role: 'USER',
    });
  });

  it('401 without a token; 403 for a deleted account', async () => {
    expect((await get('/user/me')).statusCode).toBe(401);
    const deleted = await createUser(t.ctx, { isDeleted: true });
    expect((await get('/user/me', deleted)).statusCode).toBe(403);
  });

  it('shows every public field and the sign-in methods oldest first, as they are now', async () => {
    const user = await createUser(t.ctx, { name: 'Two Methods', phone: null, address: 'Sylhet' });
    const google = { userId: user.id, provider: 'google', providerId: `g-${user.id}` };
    await t.ctx.db.insert(userAuths).values({ ...google, createdAt: new Date(Date.now() + 60_000) });
    await t.ctx.db.update(users).set({ name: 'Renamed Just Now' }).where(eq(users.id, user.id));

    const data = (await get('/user/me', user)).json().data;
    expect(Object.keys(data).sort()).toEqual(USER_KEYS);
    expect(data).toMatchObject({ name: 'Renamed Just Now', phone: null, address: 'Sylhet', picture: null });
    expect(data.auths).toEqual([
      { provider: 'credentials', providerId: user.email },
      { provider: 'google', providerId: google.providerId },
    ]);
    expect(data.createdAt).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
  });

  it('a revoked session is 401 and an inactive account 403, whatever the token says', async () => {
    const revoked = await createUser(t.ctx);
    // Accepted once first: a token seen before is still checked against its session on every request.
    expect((await get('/user/me', revoked)).statusCode).toBe(200);
    await t.ctx.db.update(sessions).set({ revokedAt: new Date() }).where(eq(sessions.id, revoked.sessionId));
    expect((await get('/user/me', revoked)).statusCode).toBe(401);
    const inactive = await createUser(t.ctx, { isActive: 'INACTIVE' });
    const res = await get('/user/me', inactive);
    expect(res.statusCode).toBe(403);
    expect(res.json().message).toBe('User is INACTIVE');
  });
});

describe('GET /user/all-users', () => {
  it('lists users flat with meta, searchable and filterable, total counting the filtered result', async () => {
    await createUser(t.ctx, { name: 'Guide Gafur', role: 'GUIDE', address: 'Sylhet tea garden' });
    await createUser(t.ctx, { name: 'Blocked Babul', isActive: 'BLOCKED' });
    const all = await get('/user/all-users?page=1&limit=2', admin);
    expect(all.statusCode).toBe(200);
    const body = all.json();
    expect(Array.isArray(body.data)).toBe(true);
    expect(body.data).toHaveLength(2);
    expect(body.meta).toMatchObject({ page: 1, limit: 2 });
    expect(body.meta.totalPage).toBe(Math.ceil(body.meta.total / 2));
    for (const u of body.data) expect(Object.keys(u).sort()).toEqual(USER_KEYS);

    const guides = (await get('/user/all-users?role=GUIDE', admin)).json();
    expect(guides.data.map((u: { name: string }) => u.name)).toEqual(['Guide Gafur']);
    expect(guides.meta.total).toBe(1);
    const search = (await get('/user/all-users?searchTerm=TEA%20garden', superAdmin)).json();
    expect(search.data.map((u: { name: string }) => u.name)).toEqual(['Guide Gafur']);
    const blocked = (await get('/user/all-users?isActive=BLOCKED&isDeleted=false', admin)).json();
    expect(blocked.data.map((u: { name: string }) => u.name)).toEqual(['Blocked Babul']);
    const unverified = (await get('/user/all-users?isVerified=false', admin)).json();
    expect(unverified.data.every((u: { isVerified: boolean }) => !u.isVerified)).toBe(true);
  });

  it('projects fields (keeping _id) and sorts', async () => {
    const res = await get('/user/all-users?fields=name,email,password&sort=name', admin);
    expect(res.statusCode).toBe(200);
    const names = res.json().data.map((u: Record<string, unknown>) => {
      expect(Object.keys(u).sort()).toEqual(['_id', 'email', 'name']);
      return u.name as string;
    });
    expect(names).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  it('bad filters are a 400 naming the field', async () => {
    for (const [query, field] of [
      ['role=KING', 'role'],
      ['isVerified=maybe', 'isVerified'],
      ['_id=abc', '_id'],
      ['page=0', 'page'],
    ]) {
      const res = await get(`/user/all-users?${query}`, admin);
      expect(res.statusCode).toBe(400);
      expect(paths(res)).toEqual([field]);
    }
  });

  it('401 without a token, 403 for USER and GUIDE', async () => {
    expect((await get('/user/all-users')).statusCode).toBe(401);
    for (const role of ['USER', 'GUIDE'] as const) {
      const res = await get('/user/all-users', await createUser(t.ctx, { role }));
      expect(res.statusCode).toBe(403);
    }
  });
});

describe('GET /user/:id', () => {
  it('returns one user to admins; 404 for an unknown or malformed id', async () => {
    const user = await createUser(t.ctx);
    const res = await get(`/user/${user.id}`, admin);
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ _id: user.id, email: user.email });
    for (const id of [newId(), 'not-an-id']) expect((await get(`/user/${id}`, admin)).statusCode).toBe(404);
  });

  it('the user, the list and an update carry the sign-in methods oldest first, as /user/me does', async () => {
    const user = await createUser(t.ctx, { name: 'Methods Mahmud' });
    const google = { userId: user.id, provider: 'google', providerId: `g-${user.id}` };
    await t.ctx.db.insert(userAuths).values({ ...google, createdAt: new Date(Date.now() + 60_000) });
    const methods = [
      { provider: 'credentials', providerId: user.email },
      { provider: 'google', providerId: google.providerId },
    ];

    expect((await get(`/user/${user.id}`, admin)).json().data.auths).toEqual(methods);
    const listed = (await get('/user/all-users?searchTerm=Methods%20Mahmud', admin)).json().data;
    expect(listed.map((u: { auths: unknown }) => u.auths)).toEqual([methods]);
    expect((await patch(user.id, { address: 'Khulna' }, admin)).json().data.auths).toEqual(methods);
  });

  it('401 without a token, 403 for a USER', async () => {
    const user = await createUser(t.ctx);
    expect((await get(`/user/${user.id}`)).statusCode).toBe(401);
    expect((await get(`/user/${user.id}`, user)).statusCode).toBe(403);
  });
});

describe('PATCH /user/:id', () => {
  it('a USER updates their own name, phone, address and picture: 201', async () => {
    const user = await createUser(t.ctx, { phone: null, address: null });
    const res = await patch(
      user.id,
      {
        name: 'New Name',
        phone: '01712345678',
        address: 'Chattogram',
        picture: 'https://img.example.com/a.png',
      },
      user,
    );
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      statusCode: 201,
      success: true,
      message: 'User Updated Successfully',
    });
    // The number as typed in the legacy national form, kept in E.164.
    expect(res.json().data).toMatchObject({
      name: 'New Name',
      phone: '+8801712345678',
      address: 'Chattogram',
    });
    expect(await liveSessionCount(user.id)).toBe(1);
  });

  it('a USER or GUIDE cannot touch another user or their own role and state fields (403)', async () => {
    const user = await createUser(t.ctx);
    const guide = await createUser(t.ctx, { role: 'GUIDE' });
    expect((await patch(guide.id, { name: 'Hacked' }, user)).statusCode).toBe(403);
    for (const payload of [
      { role: 'ADMIN' },
      { isVerified: false },
      { isActive: 'ACTIVE' },
      { isDeleted: false },
    ]) {
      const res = await patch(user.id, payload, user);
      expect(res.statusCode, JSON.stringify(payload)).toBe(403);
      expect((await patch(guide.id, payload, guide)).statusCode).toBe(403);
    }
  });

  it('an ADMIN blocks, verifies and changes the role of a user; blocking and role change end their sessions', async () => {
    const user = await createUser(t.ctx);
    const blocked = await patch(user.id, { isActive: 'BLOCKED' }, admin);
    expect(blocked.statusCode).toBe(201);
    expect(blocked.json().data.isActive).toBe('BLOCKED');
    expect(await liveSessionCount(user.id)).toBe(0);
    expect((await get('/user/me', user)).statusCode).toBe(401);

    const other = await createUser(t.ctx);
    const promoted = await patch(other.id, { role: 'GUIDE', isVerified: true }, admin);
    expect(promoted.statusCode).toBe(201);
    expect(promoted.json().data.role).toBe('GUIDE');
    expect(await liveSessionCount(other.id)).toBe(0);

    const deleted = await createUser(t.ctx);
    expect((await patch(deleted.id, { isDeleted: true }, admin)).statusCode).toBe(201);
    expect(await liveSessionCount(deleted.id)).toBe(0);
  });

  it('an ADMIN cannot grant SUPER_ADMIN nor change a super admin (403)', async () => {
    const user = await createUser(t.ctx);
    expect((await patch(user.id, { role: 'SUPER_ADMIN' }, admin)).statusCode).toBe(403);
    expect((await patch(admin.id, { role: 'SUPER_ADMIN' }, admin)).statusCode).toBe(403);
    expect((await patch(superAdmin.id, { name: 'Renamed' }, admin)).statusCode).toBe(403);
  });

  it('a SUPER_ADMIN may promote to SUPER_ADMIN, but the last active super admin cannot be disabled (409)', async () => {
    const fresh = await buildAccountsApp();
    try {
      const only = await createUser(fresh.ctx, { role: 'SUPER_ADMIN' });
      const send = (id: string, payload: object, who: TestUser) =>
        fresh.app.inject({ method: 'PATCH', url: `${API}/user/${id}`, payload, headers: who.auth });
      for (const payload of [
        { role: 'ADMIN' },
        { isActive: 'BLOCKED' },
        { isDeleted: true },
        { isVerified: false },
      ]) {
        const res = await send(only.id, payload, only);
        expect(res.statusCode, JSON.stringify(payload)).toBe(409);
        expect(res.json().message).toMatch(/last active super admin/);
      }
      const second = await createUser(fresh.ctx, { role: 'ADMIN' });
      expect((await send(second.id, { role: 'SUPER_ADMIN' }, only)).statusCode).toBe(201);
      // Two super admins demoting each other at once: exactly one succeeds.
      const secondAgain = await createUser(fresh.ctx, { email: `again-${second.email}`, role: 'USER' });
      await fresh.ctx.db.update(users).set({ role: 'SUPER_ADMIN' }).where(eq(users.id, secondAgain.id));
      await fresh.ctx.db.update(users).set({ role: 'ADMIN' }).where(eq(users.id, second.id));
      const [a, b] = await Promise.all([
        send(secondAgain.id, { role: 'ADMIN' }, only),
        send(only.id, { role: 'ADMIN' }, secondAgain),
      ]);
      // The loser is refused (409), or already signed out by the winner's demotion (401).
      expect([a.statusCode, b.statusCode].filter((s) => s === 201)).toHaveLength(1);
      const supers = await fresh.ctx.db.select().from(users).where(eq(users.role, 'SUPER_ADMIN'));
      expect(supers).toHaveLength(1);
    } finally {
      await fresh.close();
    }
  });

  it('a SUPER_ADMIN makes a user a GUIDE: 201, their sessions end, the change is logged, they sign in as GUIDE', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    const res = await patch(user.id, { role: 'GUIDE' }, superAdmin);
    expect(res.statusCode).toBe(201);
    expect(res.json().data).toMatchObject({ _id: user.id, role: 'GUIDE' });
    expect(await liveSessionCount(user.id)).toBe(0);
    const events = (
      await get(`/user/security-events?userId=${user.id}&type=role_changed`, superAdmin)
    ).json();
    expect(events.data).toMatchObject([{ type: 'role_changed', actorId: superAdmin.id }]);

    const login = await t.app.inject({
      method: 'POST',
      url: `${API}/auth/login`,
      payload: { email: user.email, password: STRONG_PASSWORD },
    });
    expect(login.statusCode).toBe(200);
    expect(login.json().data.user.role).toBe('GUIDE');
    const me = await t.app.inject({
      method: 'GET',
      url: `${API}/user/me`,
      headers: { authorization: `Bearer ${login.json().data.accessToken}` },
    });
    expect(me.json().data.role).toBe('GUIDE');
    // And back: the role is the super admin's to give and take.
    expect((await patch(user.id, { role: 'USER' }, superAdmin)).json().data.role).toBe('USER');
  });

  it('an ADMIN manages any user but super admins: profile, role (ADMIN, GUIDE, USER), state and verification', async () => {
    const otherAdmin = await createUser(t.ctx, { role: 'ADMIN' });
    const guide = await createUser(t.ctx, { role: 'GUIDE' });
    const user = await createUser(t.ctx);
    const cases: [TestUser, object][] = [
      [user, { name: 'Renamed By Admin', phone: '+8801812345678', address: 'Rajshahi' }],
      [user, { role: 'GUIDE' }],
      [guide, { role: 'USER' }],
      [user, { role: 'ADMIN' }],
      [otherAdmin, { role: 'GUIDE' }],
      [guide, { isVerified: false }],
      [guide, { isActive: 'INACTIVE' }],
      [guide, { isActive: 'ACTIVE', isVerified: true }],
      [guide, { isDeleted: true }],
      [guide, { isDeleted: false }],
    ];
    for (const [target, payload] of cases) {
      const res = await patch(target.id, payload, admin);
      expect(res.statusCode, JSON.stringify(payload)).toBe(201);
      expect(res.json().data).toMatchObject(payload);
    }
    expect((await patch(user.id, { role: 'SUPER_ADMIN' }, admin)).statusCode).toBe(403);
    expect((await patch(superAdmin.id, { isActive: 'BLOCKED' }, admin)).statusCode).toBe(403);
    expect((await patch(superAdmin.id, { role: 'GUIDE' }, admin)).statusCode).toBe(403);
  });

  it('bad input names the field; unknown and malformed ids are 404; no token is 401', async () => {
    const cases: [object, string][] = [
      [{ name: 'x' }, 'name'],
      [{ phone: '999' }, 'phone'],
      [{ picture: 'javascript:alert(1)' }, 'picture'],
      [{ role: 'KING' }, 'role'],
      [{ isActive: 'SLEEPING' }, 'isActive'],
      [{ isDeleted: 'yes' }, 'isDeleted'],
    ];
    const target = await createUser(t.ctx);
    for (const [payload, field] of cases) {
      const res = await patch(target.id, payload, admin);
      expect(res.statusCode, field).toBe(400);
      expect(paths(res)).toContain(field);
    }
    for (const id of [newId(), 'not-an-id'])
      expect((await patch(id, { name: 'Nobody' }, admin)).statusCode).toBe(404);
    expect((await patch(target.id, { name: 'x' })).statusCode).toBe(401);
  });
});

describe('GET /user/security-events', () => {
  it('super admins read a paginated log of sign-ins, failures, blocks and role changes', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    await t.app.inject({
      method: 'POST',
      url: `${API}/auth/login`,
      payload: { email: user.email, password: 'bad-guess-1' },
    });
    await t.app.inject({
      method: 'POST',
      url: `${API}/auth/login`,
      payload: { email: user.email, password: STRONG_PASSWORD },
    });
    await patch(user.id, { role: 'GUIDE' }, superAdmin);
    await patch(user.id, { isActive: 'BLOCKED' }, superAdmin);

    const res = await get(`/user/security-events?userId=${user.id}&limit=10`, superAdmin);
    expect(res.statusCode).toBe(200);
    const types = res.json().data.map((e: { type: string }) => e.type);
    expect(types).toEqual(['user_blocked', 'role_changed', 'sign_in', 'sign_in_failed']);
    expect(res.json().meta).toMatchObject({ page: 1, limit: 10, total: 4, totalPage: 1 });
    const blocked = res.json().data[0];
    expect(blocked).toMatchObject({ userId: user.id, actorId: superAdmin.id, ip: '127.0.0.1' });
    expect(blocked.createdAt).toMatch(/Z$/);

    const page = await get('/user/security-events?type=sign_in_failed&limit=1&page=1', superAdmin);
    expect(page.json().data).toHaveLength(1);
  });

  it('401 without a token, 403 for ADMIN; bad filters are 400', async () => {
    expect((await get('/user/security-events')).statusCode).toBe(401);
    expect((await get('/user/security-events', admin)).statusCode).toBe(403);
    const bad = await get('/user/security-events?userId=nope', superAdmin);
    expect(bad.statusCode).toBe(400);
    expect(paths(bad)).toEqual(['userId']);
  });
});

describe('super admin seeding', () => {
  it('creates the configured super admin once, who can sign in', async () => {
    expect(await seedSuperAdmin(t.ctx.db, t.ctx.config)).toBe(true);
    expect(await seedSuperAdmin(t.ctx.db, t.ctx.config)).toBe(false);
    const res = await t.app.inject({
      method: 'POST',
      url: `${API}/auth/login`,
      payload: { email: 'super@test.local', password: 'Super-Admin-Pass-1' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.user).toMatchObject({ role: 'SUPER_ADMIN', isVerified: true });
  });
});

describe('secrets', () => {
  it('no response contained a secret', async () => {
    await expectNoSecretsInResponses(t);
  });
});
