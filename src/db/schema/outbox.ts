import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, id, tstz } from './columns.js';

export interface OutboxAttachment {
  filename: string;
  contentType: string;
  /** Storage key of the file to attach. */
  storageKey: string;
}

/** Transactional outbox for email: written with the change that causes it, sent by a worker with retries. */
export const emailOutbox = pgTable(
  'email_outbox',
  {
    id: id(),
    /** Optional: makes "send this at most once" a database guarantee (e.g. one invoice mail per payment). */
    dedupeKey: text('dedupe_key'),
    template: text('template').notNull(),
    to: text('to_address').notNull(),
    subject: text('subject').notNull(),
    text: text('text_body').notNull(),
    html: text('html_body'),
    attachments: jsonb('attachments').$type<OutboxAttachment[]>().notNull().default([]),
    status: text('status').$type<'PENDING' | 'SENT' | 'DEAD'>().notNull().default('PENDING'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: tstz('next_attempt_at').notNull().default(sql`now()`),
    lockedUntil: tstz('locked_until'),
    lastError: text('last_error'),
    sentAt: tstz('sent_at'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('email_outbox_dedupe_key').on(t.dedupeKey),
    index('email_outbox_pending_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'PENDING'`),
  ],
);
