import * as oidc from 'openid-client';
import type { Config } from '../../../config.js';

export type GoogleSettings = NonNullable<Config['google']>;

/** The ID-token claims sign-in relies on, after openid-client has checked signature, issuer, audience and nonce. */
export interface VerifiedIdentity {
  subject: string;
  email?: string;
  emailVerified: boolean;
  name?: string;
  picture?: string;
}

/** A started authorization: the URL to send the browser to, and the secrets needed to finish it. */
export interface Authorization {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface CodeExchange {
  /** The callback URL exactly as the provider redirected to it (registered URL plus the response query). */
  callbackUrl: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** The provider said no (e.g. the user cancelled): `code` is its OAuth error code. */
export class ProviderDeniedError extends Error {
  override name = 'ProviderDeniedError';
  constructor(readonly code: string) {
    super(`Provider returned error "${code}"`);
  }
}

export interface OidcClient {
  /** The redirect URI registered with the provider. */
  readonly callbackUrl: string;
  beginAuthorization(): Promise<Authorization>;
  exchangeCode(exchange: CodeExchange): Promise<VerifiedIdentity>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Plain http is only tolerated for an issuer on this machine (a local test provider); Google and any
 * other remote issuer must be https, which openid-client enforces by default.
 */
export function allowsInsecureIssuer(issuer: string): boolean {
  const url = new URL(issuer);
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

/**
 * An OpenID Connect client for the configured issuer. Discovery runs on first use and is cached; a failed
 * discovery is not cached, so the next sign-in retries it.
 */
export function createOidcClient(settings: GoogleSettings, timeoutSeconds: number): OidcClient {
  let discovered: Promise<oidc.Configuration> | undefined;

  function configuration(): Promise<oidc.Configuration> {
    if (!discovered) {
      discovered = oidc
        .discovery(
          new URL(settings.issuer),
          settings.clientId,
          { client_secret: settings.clientSecret },
          oidc.ClientSecretPost(settings.clientSecret),
          {
            timeout: timeoutSeconds,
            execute: allowsInsecureIssuer(settings.issuer) ? [oidc.allowInsecureRequests] : [],
          },
        )
        .catch((err: unknown) => {
          discovered = undefined;
          throw err;
        });
    }
    return discovered;
  }

  return {
    callbackUrl: settings.callbackUrl,

    async beginAuthorization() {
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const url = oidc.buildAuthorizationUrl(await configuration(), {
        redirect_uri: settings.callbackUrl,
        response_type: 'code',
        scope: 'openid email profile',
        state,
        nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
      });
      return { url, state, nonce, codeVerifier };
    },

    async exchangeCode({ callbackUrl, state, nonce, codeVerifier }) {
      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        tokens = await oidc.authorizationCodeGrant(await configuration(), callbackUrl, {
          expectedState: state,
          expectedNonce: nonce,
          pkceCodeVerifier: codeVerifier,
          idTokenExpected: true,
        });
      } catch (err) {
        if (err instanceof oidc.AuthorizationResponseError) throw new ProviderDeniedError(err.error);
        throw err;
      }
      const claims = tokens.claims();
      if (!claims) throw new Error('The provider returned no ID token');
      const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined);
      return {
        subject: claims.sub,
        email: text(claims.email),
        // Google sends a boolean; some providers send the string "true".
        emailVerified: claims.email_verified === true || claims.email_verified === 'true',
        name:
          text(claims.name) ??
          ([text(claims.given_name), text(claims.family_name)].filter(Boolean).join(' ') || undefined),
        picture: text(claims.picture),
      };
    },
  };
}
