import type { Config } from '../../../config.js';
import type { Database, Executor } from '../../../db/client.js';
import type { ClientInfo } from '../../../lib/caller.js';
import type { Clock } from '../../../lib/clock.js';
import { serviceUnavailable, upstreamError } from '../../../lib/errors.js';
import { randomToken, safeEqual, sha256 } from '../../../lib/hash.js';
import { addUserAuth, insertUser, updateUser } from '../../users/repo.js';
import { recordSecurityEvent } from '../repo.js';
import { accountBlockReason, type IssuedTokens, startSession } from '../sessions.js';
import type { TokenService } from '../tokens.js';
import { type OidcClient, ProviderDeniedError, type VerifiedIdentity } from './oidc-client.js';
import {
  deleteExpiredFlows,
  GOOGLE_PROVIDER,
  insertFlow,
  linkedSubject,
  lockUserByEmail,
  lockUserByProviderSubject,
  removeUserAuth,
  takeFlow,
} from './repo.js';

/** How long the user may spend at the provider between starting sign-in and coming back. */
export const FLOW_TTL_SECONDS = 10 * 60;

const NAME_MAX = 50;
const PICTURE_MAX = 2048;
const BINDING_FORMAT = /^[A-Za-z0-9_-]{43}$/;

const MESSAGES = {
  notConfigured: 'Google sign-in is not configured',
  failed: 'Google sign-in failed, please try again',
  unknownFlow: 'This sign-in link is invalid or was already used, please try again',
  expired: 'Google sign-in took too long, please try again',
  otherBrowser: 'Google sign-in must be finished in the browser that started it, please try again',
  cancelled: 'Google sign-in was cancelled',
  noEmail: 'Google did not share an email address for this account',
  unverifiedEmail: 'Google has not verified the email address of this account',
  otherGoogleAccount: 'This email address is already linked to another Google account',
};

export interface GoogleSignInDeps {
  db: Database;
  clock: Clock;
  config: Config;
  tokens: TokenService;
  /** Undefined when Google sign-in is not configured. */
  oidc: OidcClient | undefined;
  /** Where unexpected failures (provider unreachable, bad token) are reported; they never reach the browser. */
  onFailure: (reason: string, err: unknown) => void;
}

export interface StartedSignIn {
  /** The provider's authorization URL. */
  location: string;
  /** Ties the flow to this browser; the route keeps it in a cookie. */
  binding: string;
}

export type CompletedSignIn = { location: string } & ({ session: IssuedTokens } | { session?: undefined });

type IdentityOutcome =
  | { kind: 'signed_in'; session: IssuedTokens }
  | { kind: 'refused'; message: string; userId?: string; email?: string };

/** The error and its causes in one line (openid-client wraps the specific check that failed). */
function describeError(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 4; e = e.cause) parts.push(e.message);
  return (parts.join(': ') || 'unknown error').slice(0, 500);
}

export function createGoogleSignInService(deps: GoogleSignInDeps) {
  const { db, clock, config, oidc } = deps;

  function loginErrorUrl(message: string): string {
    const url = new URL(`${config.frontendUrl}/login`);
    url.searchParams.set('error', message);
    return url.href;
  }

  function displayName(identity: VerifiedIdentity, email: string): string {
    const name = (identity.name ?? email.split('@')[0] ?? '').slice(0, NAME_MAX).trim();
    return name.length >= 2 ? name : 'Google user';
  }

  function pictureUrl(identity: VerifiedIdentity): string | null {
    const picture = identity.picture;
    if (!picture || picture.length > PICTURE_MAX || !/^https?:\/\//i.test(picture)) return null;
    return picture;
  }

  /** Finds, links or creates the account for a verified identity, then opens a session: one transaction. */
  async function signInIdentity(
    tx: Executor,
    identity: VerifiedIdentity,
    client: ClientInfo,
    now: Date,
  ): Promise<IdentityOutcome> {
    let user = await lockUserByProviderSubject(tx, GOOGLE_PROVIDER, identity.subject);
    let how: 'returning' | 'linked' | 'created' = 'returning';
    if (!user) {
      const email = identity.email?.toLowerCase();
      if (!email) return { kind: 'refused', message: MESSAGES.noEmail };
      // An unverified address could belong to someone else: never create or link an account on it.
      if (!identity.emailVerified) return { kind: 'refused', message: MESSAGES.unverifiedEmail, email };
      const existing = await lockUserByEmail(tx, email);
      if (existing) {
        const refusal =
          (await linkedSubject(tx, existing.id, GOOGLE_PROVIDER)) !== undefined
            ? MESSAGES.otherGoogleAccount
            : accountBlockReason({ ...existing, isVerified: true });
        if (refusal) return { kind: 'refused', message: refusal, userId: existing.id, email };
        await addUserAuth(tx, existing.id, { provider: GOOGLE_PROVIDER, providerId: identity.subject });
        // Google has just proven who owns the address. A password set on a never-verified account was
        // chosen by whoever registered it, possibly not this owner (account pre-hijacking): drop it;
        // the owner can add one with set-password.
        if (!existing.isVerified) await removeUserAuth(tx, existing.id, 'credentials');
        const updated = await updateUser(tx, existing.id, {
          ...(existing.isVerified ? {} : { isVerified: true, passwordHash: null }),
          ...(existing.picture ? {} : { picture: pictureUrl(identity) }),
          updatedAt: now,
        });
        user = updated ?? existing;
        how = 'linked';
      } else {
        user = await insertUser(
          tx,
          {
            name: displayName(identity, email),
            email,
            picture: pictureUrl(identity),
            role: 'USER',
            isVerified: true,
            passwordHash: null,
          },
          { provider: GOOGLE_PROVIDER, providerId: identity.subject },
        );
        how = 'created';
      }
    }

    const blocked = accountBlockReason(user);
    if (blocked) return { kind: 'refused', message: blocked, userId: user.id, email: user.email };

    const session = await startSession(tx, deps, user, client, now, GOOGLE_PROVIDER);
    await recordSecurityEvent(tx, {
      type: 'sign_in',
      userId: user.id,
      email: user.email,
      client,
      details: { provider: GOOGLE_PROVIDER, sessionId: session.sessionId, account: how },
      at: now,
    });
    return { kind: 'signed_in', session };
  }

  return {
    /**
     * Begins the authorization-code flow (PKCE S256, state, nonce). Everything needed to finish it is
     * stored server-side under the hash of `state`; the browser keeps only a binding cookie.
     */
    async start(redirectPath: string, existingBinding: string | undefined): Promise<StartedSignIn> {
      if (!oidc) throw serviceUnavailable('Google sign-in is not configured on this server');
      let authorization: Awaited<ReturnType<OidcClient['beginAuthorization']>>;
      try {
        authorization = await oidc.beginAuthorization();
      } catch (err) {
        deps.onFailure('Google sign-in could not reach the provider', err);
        throw upstreamError('Google sign-in is unavailable right now, please try again later');
      }
      const binding =
        existingBinding && BINDING_FORMAT.test(existingBinding) ? existingBinding : randomToken(32);
      const now = clock.now();
      await deleteExpiredFlows(db, now);
      await insertFlow(db, {
        provider: GOOGLE_PROVIDER,
        stateHash: sha256(authorization.state),
        bindingHash: sha256(binding),
        codeVerifier: authorization.codeVerifier,
        nonce: authorization.nonce,
        redirectPath,
        createdAt: now,
        expiresAt: new Date(now.getTime() + FLOW_TTL_SECONDS * 1000),
      });
      return { location: authorization.url.href, binding };
    },

    /**
     * Finishes the flow from the provider's redirect. Always answers with where to send the browser:
     * the front end plus the saved path with a session, or the front end's login page with a message.
     * The flow is consumed before anything else, so a callback works at most once.
     */
    async complete(
      rawQuery: string,
      binding: string | undefined,
      client: ClientInfo,
    ): Promise<CompletedSignIn> {
      const refuse = (message: string) => ({ location: loginErrorUrl(message) });
      if (!oidc) return refuse(MESSAGES.notConfigured);
      const params = new URLSearchParams(rawQuery);
      const state = params.get('state');
      if (!state) return refuse(MESSAGES.unknownFlow);

      const flow = await takeFlow(db, GOOGLE_PROVIDER, sha256(state));
      if (!flow) return refuse(MESSAGES.unknownFlow);
      if (flow.expiresAt <= clock.now()) return refuse(MESSAGES.expired);
      if (!binding || !safeEqual(sha256(binding), flow.bindingHash)) return refuse(MESSAGES.otherBrowser);

      let identity: VerifiedIdentity;
      try {
        const callbackUrl = new URL(oidc.callbackUrl);
        callbackUrl.search = params.toString();
        identity = await oidc.exchangeCode({
          callbackUrl,
          state,
          nonce: flow.nonce,
          codeVerifier: flow.codeVerifier,
        });
      } catch (err) {
        if (err instanceof ProviderDeniedError) {
          return refuse(err.code === 'access_denied' ? MESSAGES.cancelled : MESSAGES.failed);
        }
        deps.onFailure('Google sign-in callback was rejected', err);
        // A rejected token (wrong nonce, issuer or audience, bad signature) may be an attack: keep a trace.
        await recordSecurityEvent(db, {
          type: 'sign_in_failed',
          client,
          details: {
            provider: GOOGLE_PROVIDER,
            reason: 'provider_response_rejected',
            error: describeError(err),
          },
          at: clock.now(),
        });
        return refuse(MESSAGES.failed);
      }

      const now = clock.now();
      let outcome: IdentityOutcome;
      try {
        outcome = await db.transaction((tx) => signInIdentity(tx, identity, client, now));
      } catch (err) {
        // e.g. two first sign-ins of the same new account racing on the unique email.
        deps.onFailure('Google sign-in could not open a session', err);
        return refuse(MESSAGES.failed);
      }
      if (outcome.kind === 'refused') {
        await recordSecurityEvent(db, {
          type: 'sign_in_failed',
          userId: outcome.userId,
          email: outcome.email,
          client,
          details: { provider: GOOGLE_PROVIDER, reason: outcome.message },
          at: now,
        });
        return refuse(outcome.message);
      }
      return { location: `${config.frontendUrl}${flow.redirectPath}`, session: outcome.session };
    },
  };
}

export type GoogleSignInService = ReturnType<typeof createGoogleSignInService>;
