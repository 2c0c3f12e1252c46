import { index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, id, tstz } from './columns.js';

/**
 * An OAuth/OIDC sign-in in progress, kept server-side between the redirect to the provider and its
 * callback. Looked up by the hash of `state` and deleted on first use, so a callback cannot be replayed.
 * `bindingHash` ties the flow to the browser that started it (a cookie), which stops login CSRF.
 */
export const oauthFlows = pgTable(
  'oauth_flows',
  {
    id: id(),
    provider: text('provider').notNull(),
    stateHash: text('state_hash').notNull(),
    bindingHash: text('binding_hash').notNull(),
    codeVerifier: text('code_verifier').notNull(),
    nonce: text('nonce').notNull(),
    redirectPath: text('redirect_path').notNull(),
    createdAt: createdAt(),
    expiresAt: tstz('expires_at').notNull(),
  },
  (t) => [
    uniqueIndex('oauth_flows_state_hash_key').on(t.stateHash),
    index('oauth_flows_expires_at_idx').on(t.expiresAt),
  ],
);
