import { and, eq, sql } from 'drizzle-orm';
import type { Database, Executor } from '../../db/client.js';
import { emailOutbox, type OutboxAttachment } from '../../db/schema/index.js';
import type { EventLog } from '../domain-events.js';
import type { Mailer, OutboxRow } from './mailer.js';

export interface EmailMessage {
  template: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
  attachments?: OutboxAttachment[];
  /** When set, a second message with the same key is silently dropped. */
  dedupeKey?: string;
}

/**
 * Queues an email in the caller's transaction: it is sent only if that transaction commits, and not before
 * `notBefore` when given (e.g. while its attachment is being made; `releaseHeldEmail` lets it go sooner).
 */
export async function enqueueEmail(
  db: Executor,
  message: EmailMessage,
  options: { notBefore?: Date } = {},
): Promise<void> {
  await db
    .insert(emailOutbox)
    .values({
      template: message.template,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      attachments: message.attachments ?? [],
      dedupeKey: message.dedupeKey,
      ...(options.notBefore ? { nextAttemptAt: options.notBefore } : {}),
    })
    .onConflictDoNothing();
}

/** Lets a queued email that is held back until later (see `enqueueEmail`) go from `now`. */
export async function releaseHeldEmail(db: Executor, dedupeKey: string, now: Date): Promise<void> {
  await db
    .update(emailOutbox)
    .set({ nextAttemptAt: now })
    .where(and(eq(emailOutbox.dedupeKey, dedupeKey), eq(emailOutbox.status, 'PENDING')));
}

export type { OutboxRow };

const MAX_ATTEMPTS = 10;
const LOCK_SECONDS = 60;

/** Exponential backoff capped at one hour: 30 s, 1 min, 2 min, ... */
export const retryDelaySeconds = (attempts: number) => Math.min(3600, 30 * 2 ** Math.max(0, attempts - 1));

/**
 * Claims due messages (safe across instances: a claimed row is locked for a minute), sends each and records
 * the outcome. Returns how many were sent.
 */
export async function deliverDueEmails(
  db: Database,
  send: (row: OutboxRow) => Promise<unknown>,
  now: Date,
  onError: (row: OutboxRow, err: unknown) => void,
  batch = 20,
): Promise<number> {
  const lockUntil = new Date(now.getTime() + LOCK_SECONDS * 1000);
  const claimed = await db
    .update(emailOutbox)
    .set({ lockedUntil: lockUntil })
    .where(
      sql`${emailOutbox.id} in (select id from email_outbox where status = 'PENDING' and next_attempt_at <= ${now}
        and (locked_until is null or locked_until <= ${now}) order by next_attempt_at limit ${batch} for update skip locked)`,
    )
    .returning();
  let sent = 0;
  for (const row of claimed) {
    try {
      await send(row);
      await db
        .update(emailOutbox)
        .set({ status: 'SENT', sentAt: new Date(), lockedUntil: null, attempts: row.attempts + 1 })
        .where(eq(emailOutbox.id, row.id));
      sent++;
    } catch (err) {
      onError(row, err);
      const attempts = row.attempts + 1;
      await db
        .update(emailOutbox)
        .set({
          attempts,
          status: attempts >= MAX_ATTEMPTS ? 'DEAD' : 'PENDING',
          lastError: err instanceof Error ? err.message.slice(0, 500) : 'send failed',
          nextAttemptAt: new Date(now.getTime() + retryDelaySeconds(attempts) * 1000),
          lockedUntil: null,
        })
        .where(eq(emailOutbox.id, row.id));
    }
  }
  return sent;
}

/** One run of the background sender: due messages go out through `mailer`, each outcome logged once. */
export function sendDueEmails(db: Database, mailer: Mailer, events: EventLog, now: Date): Promise<number> {
  return deliverDueEmails(
    db,
    async (row) => {
      const destination = await mailer.send(row);
      events(
        'mail.delivered',
        { emailId: row.id, template: row.template, attempt: row.attempts + 1, destination },
        `${row.template} email delivered`,
      );
    },
    now,
    (row, err) => {
      const attempt = row.attempts + 1;
      const fields = {
        emailId: row.id,
        template: row.template,
        attempt,
        err: err instanceof Error ? err.message : String(err),
      };
      if (attempt >= MAX_ATTEMPTS) {
        events('mail.abandoned', fields, `${row.template} email abandoned after ${attempt} attempts`);
      } else {
        const retryInSeconds = retryDelaySeconds(attempt);
        events(
          'mail.deferred',
          { ...fields, retryInSeconds },
          `${row.template} email not delivered, retrying in ${retryInSeconds} s`,
        );
      }
    },
  );
}
