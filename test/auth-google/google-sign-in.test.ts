import { randomBytes } from 'node:crypto';
import { count, eq } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oauthFlows, securityEvents, sessions, userAuths, users } from '../../src/db/schema/index.js';
import type { Clock } from '../../src/lib/clock.js';
import { allowsInsecureIssuer } from '../../src/modules/auth/google/oidc-client.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createUser } from '../helpers/factories.js';
import { signInAtProvider, startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';

const FRONTEND = 'http://localhost:3000';
const CALLBACK = 'http://api.test.local/api/v1/auth/google/callback';
const FLOW_COOKIE = 'googleSignIn';

/** A clock the tests can move forward (flow expiry); otherwise real time, as the provider uses. */
const clock = {
  offsetMs: 0,
  now() {
    return new Date(Date.now() + this.offsetMs);
  },
} satisfies Clock & { offsetMs: number };

let provider: TestOidcProvider;
let t: TestApp;

beforeAll(async () => {
  provider = await startOidcProvider({ redirectUri: CALLBACK });
  t = await buildTestApp({ env: provider.env, clock });
});

afterAll(async () => {
  await t?.close();
  await provider?.close();
});

function setCookies(response: LightMyRequestResponse): Map<string, string> {
  const jar = new Map<string, string>();
  for (const c of response.cookies) jar.set(c.name, c.value);
  return jar;
}

function googleAccount(
  claims: { email?: string; email_verified?: boolean; name?: string; picture?: string } = {},
) {
  const subject = `g-${randomBytes(6).toString('hex')}`;
  provider.accounts.set(subject, {
    email: `${subject}@gmail.test`,
    email_verified: true,
    name: 'Ada Lovelace',
    picture: 'https://images.example.com/ada.png',
    ...claims,
  });
  return subject;
}

/** GET /auth/google as a browser would: the provider URL to go to, and the binding cookie to keep. */
async function startSignIn(redirect?: string) {
  const response = await t.app.inject({
    method: 'GET',
    url: '/api/v1/auth/google',
    query: redirect === undefined ? {} : { redirect },
  });
  expect(response.statusCode).toBe(302);
  const binding = setCookies(response).get(FLOW_COOKIE);
  expect(binding).toBeTruthy();
  return { authorizationUrl: response.headers.location as string, binding: binding! };
}

function callback(callbackUrl: URL, binding: string | undefined) {
  return t.app.inject({
    method: 'GET',
    url: `${callbackUrl.pathname}${callbackUrl.search}`,
    cookies: binding ? { [FLOW_COOKIE]: binding } : {},
  });
}

/** Start, log in and consent at the provider, and come back: the app's callback response. */
async function signInWithGoogle(subject: string, redirect?: string) {
  const { authorizationUrl, binding } = await startSignIn(redirect);
  const { callbackUrl } = await signInAtProvider(authorizationUrl, { subject, callbackPrefix: CALLBACK });
  return callback(callbackUrl, binding);
}

async function sessionCount() {
  const [row] = await t.ctx.db.select({ n: count() }).from(sessions);
  return row!.n;
}

/** Security-log entries for callbacks whose token response failed validation, oldest first. */
async function rejectedProviderResponses() {
  const rows = await t.ctx.db
    .select()
    .from(securityEvents)
    .where(eq(securityEvents.type, 'sign_in_failed'))
    .orderBy(securityEvents.createdAt);
  return rows.filter((r) => r.details.reason === 'provider_response_rejected');
}

function loginError(response: LightMyRequestResponse): string | null {
  expect(response.statusCode).toBe(302);
  const location = new URL(response.headers.location as string);
  expect(`${location.origin}${location.pathname}`).toBe(`${FRONTEND}/login`);
  return location.searchParams.get('error');
}

function me(cookies: Map<string, string>) {
  return t.app.inject({
    method: 'GET',
    url: '/api/v1/user/me',
    cookies: { accessToken: cookies.get('accessToken')! },
  });
}

describe('GET /auth/google', () => {
  it('redirects to the provider with PKCE S256, state, nonce and the registered callback', async () => {
    const { authorizationUrl } = await startSignIn('/tours');
    const url = new URL(authorizationUrl);
    expect(url.origin).toBe(provider.issuer);
    expect(url.searchParams.get('client_id')).toBe(provider.clientId);
    expect(url.searchParams.get('redirect_uri')).toBe(CALLBACK);
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('scope')).toBe('openid email profile');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(url.searchParams.get('state')).toMatch(/^[\w-]{20,}$/);
    expect(url.searchParams.get('nonce')).toMatch(/^[\w-]{20,}$/);
  });

  it('keeps the flow server-side: state only as a hash, never the state itself', async () => {
    const { authorizationUrl } = await startSignIn('/kept');
    const state = new URL(authorizationUrl).searchParams.get('state')!;
    const rows = await t.ctx.db.select().from(oauthFlows).where(eq(oauthFlows.redirectPath, '/kept'));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.stateHash).not.toBe(state);
    expect(rows[0]!.expiresAt.getTime() - rows[0]!.createdAt.getTime()).toBe(10 * 60 * 1000);
  });

  it.each([
    ['an absolute URL', 'https://evil.example/steal'],
    ['a protocol-relative URL', '//evil.example/steal'],
    ['a backslash trick', '/\\evil.example'],
    ['a scheme', 'javascript:alert(1)'],
    ['a path without a leading slash', 'booking'],
    ['a tab that browsers strip', '/\t/evil.example'],
  ])('refuses %s as redirect with a 400 naming the field', async (_what, redirect) => {
    const before = await t.ctx.db.select({ n: count() }).from(oauthFlows);
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/auth/google', query: { redirect } });
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body.success).toBe(false);
    expect(body.errorSources[0].path).toBe('redirect');
    expect(response.headers.location).toBeUndefined();
    const after = await t.ctx.db.select({ n: count() }).from(oauthFlows);
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it('answers 503 when Google sign-in is not configured, and its callback sends the browser to login', async () => {
    const plain = await buildTestApp();
    try {
      const start = await plain.app.inject({ method: 'GET', url: '/api/v1/auth/google' });
      expect(start.statusCode).toBe(503);
      expect(start.json().message).toMatch(/not configured/);
      const back = await plain.app.inject({
        method: 'GET',
        url: '/api/v1/auth/google/callback?code=x&state=y',
      });
      expect(back.statusCode).toBe(302);
      expect(new URL(back.headers.location as string).searchParams.get('error')).toMatch(/not configured/);
    } finally {
      await plain.close();
    }
  });
});

describe('Google sign-in end to end', () => {
  it('creates a verified user, signs in with both cookies, and set-password then adds password sign-in', async () => {
    const subject = googleAccount({ name: 'Grace Hopper', picture: 'https://images.example.com/grace.png' });
    const email = provider.accounts.get(subject)!.email!;

    const response = await signInWithGoogle(subject, '/booking?tour=42');
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe(`${FRONTEND}/booking?tour=42`);
    const cookies = setCookies(response);
    expect(cookies.get('accessToken')).toBeTruthy();
    expect(cookies.get('refreshToken')).toBeTruthy();
    for (const c of response.cookies.filter((c) => c.name.endsWith('Token'))) expect(c.httpOnly).toBe(true);

    const profile = await me(cookies);
    expect(profile.statusCode).toBe(200);
    const user = profile.json().data;
    expect(user).toMatchObject({
      email,
      name: 'Grace Hopper',
      picture: 'https://images.example.com/grace.png',
      role: 'USER',
      isVerified: true,
    });
    expect(user.auths).toEqual([{ provider: 'google', providerId: subject }]);
    expect(JSON.stringify(user)).not.toMatch(/password/i);

    const [session] = await t.ctx.db.select().from(sessions).where(eq(sessions.userId, user._id));
    expect(session!.provider).toBe('google');
    const events = await t.ctx.db.select().from(securityEvents).where(eq(securityEvents.userId, user._id));
    expect(events.map((e) => e.type)).toContain('sign_in');

    // The session rotates like any other: the refresh cookie buys a new pair.
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh-token',
      cookies: { refreshToken: cookies.get('refreshToken')! },
    });
    expect(refreshed.statusCode).toBe(200);

    const setPassword = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/set-password',
      cookies: { accessToken: cookies.get('accessToken')! },
      payload: { password: 'Analytical-Engine-1843' },
    });
    expect(setPassword.statusCode).toBe(200);
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password: 'Analytical-Engine-1843' },
    });
    expect(login.statusCode).toBe(200);
    expect(login.json().data.user._id).toBe(user._id);
  });

  it('lands on the front-end root when no redirect was given', async () => {
    const response = await signInWithGoogle(googleAccount());
    expect(response.headers.location).toBe(`${FRONTEND}/`);
  });

  it('recognises a returning user by Google subject even after the email changed at Google', async () => {
    const subject = googleAccount();
    const first = await me(setCookies(await signInWithGoogle(subject)));
    provider.accounts.set(subject, {
      ...provider.accounts.get(subject)!,
      email: `renamed-${subject}@gmail.test`,
    });
    const second = await me(setCookies(await signInWithGoogle(subject)));
    expect(second.json().data._id).toBe(first.json().data._id);
    const [row] = await t.ctx.db
      .select({ n: count() })
      .from(users)
      .where(eq(users.email, `renamed-${subject}@gmail.test`));
    expect(row!.n).toBe(0);
  });

  it('links an existing password account with the same Google-verified email', async () => {
    const existing = await createUser(t.ctx, {
      email: `linked-${randomBytes(4).toString('hex')}@gmail.test`,
    });
    const subject = googleAccount({ email: existing.email.toUpperCase() });
    const response = await signInWithGoogle(subject);
    const user = (await me(setCookies(response))).json().data;
    expect(user._id).toBe(existing.id);
    expect(user.auths).toEqual(
      expect.arrayContaining([
        { provider: 'credentials', providerId: existing.email },
        { provider: 'google', providerId: subject },
      ]),
    );
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: existing.email, password: existing.password },
    });
    expect(login.statusCode).toBe(200);
  });

  it('drops the unproven password of a never-verified account it links, and verifies the account', async () => {
    const squatted = await createUser(t.ctx, {
      email: `squat-${randomBytes(4).toString('hex')}@gmail.test`,
      isVerified: false,
    });
    const user = (
      await me(setCookies(await signInWithGoogle(googleAccount({ email: squatted.email }))))
    ).json().data;
    expect(user._id).toBe(squatted.id);
    expect(user.isVerified).toBe(true);
    expect(user.auths.map((a: { provider: string }) => a.provider)).toEqual(['google']);
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: squatted.email, password: squatted.password },
    });
    expect(login.statusCode).toBe(401);
  });
});

describe('Google sign-in refusals (no session is ever created)', () => {
  it('does not link an existing account when Google has not verified the email', async () => {
    const existing = await createUser(t.ctx, {
      email: `unverified-${randomBytes(4).toString('hex')}@gmail.test`,
    });
    const before = await sessionCount();
    const response = await signInWithGoogle(googleAccount({ email: existing.email, email_verified: false }));
    expect(loginError(response)).toMatch(/not verified/);
    expect(await sessionCount()).toBe(before);
    const auths = await t.ctx.db.select().from(userAuths).where(eq(userAuths.userId, existing.id));
    expect(auths.map((a) => a.provider)).toEqual(['credentials']);
  });

  it.each([
    ['blocked', { isActive: 'BLOCKED' as const }, /BLOCKED/],
    ['inactive', { isActive: 'INACTIVE' as const }, /INACTIVE/],
    ['deleted', { isDeleted: true }, /deleted/],
  ])('sends a %s user to the login page with the reason', async (_what, state, message) => {
    const subject = googleAccount();
    const first = await me(setCookies(await signInWithGoogle(subject)));
    await t.ctx.db.update(users).set(state).where(eq(users.id, first.json().data._id));
    const before = await sessionCount();
    const response = await signInWithGoogle(subject);
    expect(loginError(response)).toMatch(message);
    expect(response.cookies.filter((c) => c.name.endsWith('Token'))).toEqual([]);
    expect(await sessionCount()).toBe(before);
  });

  it('refuses a blocked password account instead of linking it', async () => {
    const blocked = await createUser(t.ctx, {
      email: `blocked-${randomBytes(4).toString('hex')}@gmail.test`,
      isActive: 'BLOCKED',
    });
    const before = await sessionCount();
    const response = await signInWithGoogle(googleAccount({ email: blocked.email }));
    expect(loginError(response)).toMatch(/BLOCKED/);
    expect(await sessionCount()).toBe(before);
    const auths = await t.ctx.db.select().from(userAuths).where(eq(userAuths.userId, blocked.id));
    expect(auths.map((a) => a.provider)).toEqual(['credentials']);
  });

  it('refuses a second Google account presenting an email already linked to another one', async () => {
    const first = googleAccount();
    await signInWithGoogle(first);
    const before = await sessionCount();
    const response = await signInWithGoogle(googleAccount({ email: provider.accounts.get(first)!.email }));
    expect(loginError(response)).toMatch(/another Google account/);
    expect(await sessionCount()).toBe(before);
  });

  it('refuses a tampered state', async () => {
    const { authorizationUrl, binding } = await startSignIn();
    const { callbackUrl } = await signInAtProvider(authorizationUrl, {
      subject: googleAccount(),
      callbackPrefix: CALLBACK,
    });
    callbackUrl.searchParams.set('state', `${callbackUrl.searchParams.get('state')}x`);
    const before = await sessionCount();
    expect(loginError(await callback(callbackUrl, binding))).toMatch(/invalid or was already used/);
    expect(await sessionCount()).toBe(before);
  });

  it('refuses a replayed callback: the first one signs in, the second does not', async () => {
    const { authorizationUrl, binding } = await startSignIn('/again');
    const { callbackUrl } = await signInAtProvider(authorizationUrl, {
      subject: googleAccount(),
      callbackPrefix: CALLBACK,
    });
    const before = await sessionCount();
    const first = await callback(callbackUrl, binding);
    expect(first.headers.location).toBe(`${FRONTEND}/again`);
    const second = await callback(callbackUrl, binding);
    expect(loginError(second)).toMatch(/invalid or was already used/);
    expect(second.cookies.filter((c) => c.name.endsWith('Token'))).toEqual([]);
    expect(await sessionCount()).toBe(before + 1);
  });

  it('refuses an ID token whose nonce is not the one this flow sent', async () => {
    const { authorizationUrl, binding } = await startSignIn();
    const altered = new URL(authorizationUrl);
    altered.searchParams.set('nonce', 'a-nonce-chosen-by-someone-else');
    const { callbackUrl } = await signInAtProvider(altered.href, {
      subject: googleAccount(),
      callbackPrefix: CALLBACK,
    });
    const before = await sessionCount();
    const rejectedBefore = await rejectedProviderResponses();
    expect(loginError(await callback(callbackUrl, binding))).toMatch(/failed/);
    expect(await sessionCount()).toBe(before);
    const rejected = await rejectedProviderResponses();
    expect(rejected).toHaveLength(rejectedBefore.length + 1);
    expect(String(rejected.at(-1)!.details.error)).toMatch(/nonce/);
  });

  it('refuses a callback from another browser (login CSRF): the flow cookie is missing or different', async () => {
    for (const otherBinding of [undefined, randomBytes(32).toString('base64url')]) {
      const { authorizationUrl } = await startSignIn();
      const { callbackUrl } = await signInAtProvider(authorizationUrl, {
        subject: googleAccount(),
        callbackPrefix: CALLBACK,
      });
      const before = await sessionCount();
      expect(loginError(await callback(callbackUrl, otherBinding))).toMatch(/browser that started it/);
      expect(await sessionCount()).toBe(before);
    }
  });

  it('refuses a flow finished after ten minutes', async () => {
    const { authorizationUrl, binding } = await startSignIn();
    const { callbackUrl } = await signInAtProvider(authorizationUrl, {
      subject: googleAccount(),
      callbackPrefix: CALLBACK,
    });
    const before = await sessionCount();
    clock.offsetMs = 10 * 60 * 1000 + 1000;
    try {
      expect(loginError(await callback(callbackUrl, binding))).toMatch(/too long/);
    } finally {
      clock.offsetMs = 0;
    }
    expect(await sessionCount()).toBe(before);
  });

  it('sends the browser to login when the user cancels at the provider', async () => {
    const { authorizationUrl, binding } = await startSignIn();
    const { callbackUrl } = await signInAtProvider(authorizationUrl, {
      subject: googleAccount(),
      callbackPrefix: CALLBACK,
      cancel: true,
    });
    expect(callbackUrl.searchParams.get('error')).toBe('access_denied');
    const before = await sessionCount();
    expect(loginError(await callback(callbackUrl, binding))).toMatch(/cancelled/);
    expect(await sessionCount()).toBe(before);
  });

  it('refuses a callback without a state', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/auth/google/callback?code=abc' });
    expect(loginError(response)).toMatch(/invalid or was already used/);
  });
});

describe('API description', () => {
  it('documents both Google routes and their redirect answers', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const start = doc.paths['/api/v1/auth/google'].get;
    expect(start.responses['302']).toBeDefined();
    expect(start.parameters.map((p: { name: string }) => p.name)).toContain('redirect');
    expect(doc.paths['/api/v1/auth/google/callback'].get.responses['302']).toBeDefined();
  });
});

describe('allowsInsecureIssuer', () => {
  it('tolerates plain http only for a provider on this machine', () => {
    expect(allowsInsecureIssuer('http://127.0.0.1:4000')).toBe(true);
    expect(allowsInsecureIssuer('http://localhost:4000')).toBe(true);
    expect(allowsInsecureIssuer('https://accounts.google.com')).toBe(false);
    expect(allowsInsecureIssuer('http://accounts.google.com')).toBe(false);
    expect(allowsInsecureIssuer('http://127.0.0.1.evil.example')).toBe(false);
  });
});
