import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { authThrottle, securityEvents, sessions, userAuths, users } from '../../db/schema/index.js';
import { newId } from '../../lib/ids.js';
import type { NewSessionRow } from './sessions.js';
import { countHitStatement, LOGIN_FAILURES } from './throttle.js';

/**
 * The SQL of a password sign-in as two named prepared statements (built and planned once per connection):
 * one read before the password check, one write after it. Around the argon2id hash, every statement a sign-in
 * runs costs throughput, because the hash and the database share the same cores.
 */

const param = (name: string) => sql.placeholder(name);

/**
 * Reserves one sign-in try on the email's throttle key and reads the account behind the email (with its
 * sign-in methods), in one statement. The try is taken before the password is checked, so parallel guesses
 * cannot all pass a throttle they read before any of them failed; `reserved` is false while the key is blocked.
 * It answers one row whether or not the account exists, so unknown emails do exactly the same work.
 */
export function prepareSignInAccount(db: Database) {
  const reservation = db
    .$with('reservation')
    .as(countHitStatement(db, param('key'), param('now'), LOGIN_FAILURES, { onlyIfFree: true }));
  const query = db
    .with(reservation)
    .select({
      reserved: sql<boolean>`exists (select 1 from ${reservation})`,
      hits: sql<number | null>`(select failures from ${reservation})`,
      user: users,
      auths: sql<{ provider: string; providerId: string }[]>`coalesce((
        select json_agg(json_build_object('provider', ${userAuths.provider}, 'providerId', ${userAuths.providerId})
                        order by ${userAuths.createdAt})
        from ${userAuths} where ${userAuths.userId} = ${users.id}), '[]'::json)`,
    })
    .from(sql`(select ${param('email')}::text as email) as attempt`)
    .leftJoin(users, eq(users.email, sql`attempt.email`))
    .prepare('sign_in_account');
  return async (throttleKey: string, email: string, now: Date) => {
    const [row] = await query.execute({ key: throttleKey, email, now });
    return {
      user: row?.user ?? undefined,
      auths: row?.auths ?? [],
      /** Whether this try was counted and may go on to the password check. */
      reserved: row?.reserved === true,
      /** The key's count with this try (null when it was not reserved). */
      hits: row?.hits ?? null,
    };
  };
}

/**
 * Writes a new session and its `sign_in` security event, and gives back the sign-in try the right password
 * reserved (clearing the email's throttle row), in one statement (INSERTs and a DELETE inside a WITH): one
 * round trip instead of a transaction's five, and still all or nothing, so no session exists without its log
 * entry.
 */
export function prepareSignInSession(db: Database) {
  const opened = db.$with('opened').as(
    db
      .insert(sessions)
      .values({
        id: param('id'),
        userId: param('userId'),
        generation: 0,
        currentTokenHash: param('currentTokenHash'),
        currentIssuedAt: param('currentIssuedAt'),
        createdAt: param('createdAt'),
        lastUsedAt: param('lastUsedAt'),
        idleExpiresAt: param('idleExpiresAt'),
        absoluteExpiresAt: param('absoluteExpiresAt'),
        ip: param('ip'),
        userAgent: param('userAgent'),
        provider: param('provider'),
      })
      .returning({
        id: sessions.id,
        userId: sessions.userId,
        ip: sessions.ip,
        userAgent: sessions.userAgent,
        provider: sessions.provider,
        createdAt: sessions.createdAt,
      }),
  );
  // Runs although nothing reads it: PostgreSQL carries out every data-modifying WITH.
  const cleared = db.$with('cleared').as(
    db
      .delete(authThrottle)
      .where(eq(authThrottle.key, param('throttleKey')))
      .returning({ key: authThrottle.key }),
  );
  // An INSERT ... SELECT lists every column of security_events in table order.
  const query = db
    .with(opened, cleared)
    .insert(securityEvents)
    .select(
      sql`select ${param('eventId')}::uuid, 'sign_in', ${opened.userId}, null::uuid, ${param('email')}::text,
        ${opened.ip}, ${opened.userAgent}, jsonb_build_object('sessionId', ${opened.id}, 'provider', ${opened.provider}),
        ${opened.createdAt}
        from ${opened}`,
    )
    .prepare('sign_in_session');
  return async (row: NewSessionRow, email: string, throttleKey: string): Promise<void> => {
    await query.execute({
      id: row.id,
      userId: row.userId,
      currentTokenHash: row.currentTokenHash,
      currentIssuedAt: row.currentIssuedAt,
      createdAt: row.createdAt,
      lastUsedAt: row.lastUsedAt,
      idleExpiresAt: row.idleExpiresAt,
      absoluteExpiresAt: row.absoluteExpiresAt,
      ip: row.ip ?? null,
      userAgent: row.userAgent ?? null,
      provider: row.provider,
      eventId: newId(),
      email,
      throttleKey,
    });
  };
}
