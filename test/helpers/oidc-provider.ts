import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClaimsParameterMember, Configuration, KoaContextWithOIDC } from 'oidc-provider';

/**
 * A real OpenID Connect provider (`oidc-provider`) on 127.0.0.1 with one confidential client, standing in
 * for Google. Its development interactions render a login and a consent form that `signInAtProvider`
 * fills in over plain HTTP, like a browser would.
 */

/** Claims a test account presents, as Google would put them in the ID token. */
export interface AccountClaims {
  email?: string;
  email_verified?: boolean;
  name?: string;
  picture?: string;
}

export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Accounts by subject; tests add and change them freely. */
  accounts: Map<string, AccountClaims>;
  /** Settings for the app's environment. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** oidc-provider warns about Node 20 and its development interactions on every start; tests know. */
async function withoutProviderWarnings<T>(run: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING')) return;
    warn(...args);
  };
  try {
    return await run();
  } finally {
    console.warn = warn;
  }
}

export async function startOidcProvider(options: { redirectUri: string }): Promise<TestOidcProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = 'tour-booking-test-client';
  const clientSecret = randomBytes(24).toString('base64url');
  const accounts = new Map<string, AccountClaims>();
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

  const configuration: Configuration = {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [options.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    jwks: { keys: [{ ...signingKey, kid: 'test-key', use: 'sig', alg: 'RS256' }] as never },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'picture'],
    } as Record<string, ClaimsParameterMember | string[]> as never,
    // Like Google: profile and email claims travel in the ID token, not only from userinfo.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      Grant: 3600,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
    },
    features: { devInteractions: { enabled: true } },
    async findAccount(_ctx: KoaContextWithOIDC, sub: string) {
      const claims = accounts.get(sub);
      if (!claims) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...claims }) };
    },
  };

  const provider = await withoutProviderWarnings(async () => {
    const { default: Provider } = await import('oidc-provider');
    return new Provider(issuer, configuration);
  });
  // Unhandled provider errors are answered as OAuth errors already; keep the test output clean.
  provider.on('server_error', () => {});
  const handler = provider.callback();
  server.on('request', (req, res) => {
    withoutProviderWarnings(async () => handler(req, res)).catch(() => res.destroy());
  });

  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    env: {
      GOOGLE_CLIENT_ID: clientId,
      GOOGLE_CLIENT_SECRET: clientSecret,
      GOOGLE_ISSUER: issuer,
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** Cookies by name for one origin: enough of a browser for the provider's session and interaction cookies. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const at = pair?.indexOf('=') ?? -1;
      if (!pair || at < 1) continue;
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

export interface ProviderVisit {
  /** Where the provider finally sent the browser (the app's callback URL with its query). */
  callbackUrl: URL;
}

const formAction = (html: string) => /<form[^>]*action="([^"]+)"/.exec(html)?.[1];

/**
 * Follows the provider's redirects from the authorization URL like a browser, signs in as `subject`
 * (or cancels, with `cancel`) and consents, until the provider redirects to `callbackPrefix`.
 */
export async function signInAtProvider(
  authorizationUrl: string,
  options: { subject: string; callbackPrefix: string; cancel?: boolean },
): Promise<ProviderVisit> {
  const jar = new CookieJar();
  let next: { url: string; init?: RequestInit } = { url: authorizationUrl };
  for (let hop = 0; hop < 20; hop++) {
    const response = await fetch(next.url, {
      ...next.init,
      redirect: 'manual',
      headers: { ...(next.init?.headers as Record<string, string>), cookie: jar.header() },
    });
    jar.store(response);
    const location = response.headers.get('location');
    if (location) {
      await response.body?.cancel();
      const target = new URL(location, next.url);
      if (target.href.startsWith(options.callbackPrefix)) return { callbackUrl: target };
      next = { url: target.href };
      continue;
    }
    const html = await response.text();
    if (response.status !== 200)
      throw new Error(`provider answered ${response.status}: ${html.slice(0, 300)}`);
    const action = formAction(html);
    if (!action) throw new Error(`no form on provider page: ${html.slice(0, 300)}`);
    const actionUrl = new URL(action, next.url).href;
    if (options.cancel) {
      next = { url: `${actionUrl}/abort` };
      continue;
    }
    const prompt = html.includes('name="prompt" value="login"') ? 'login' : 'consent';
    const body = new URLSearchParams(
      prompt === 'login' ? { prompt, login: options.subject, password: 'any' } : { prompt },
    );
    next = {
      url: actionUrl,
      init: {
        method: 'POST',
        body: body.toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
    };
  }
  throw new Error('too many redirects at the provider');
}
