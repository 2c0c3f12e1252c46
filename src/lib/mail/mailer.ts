import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Config } from '../../config.js';
import type { emailOutbox } from '../../db/schema/index.js';
import type { Storage } from '../storage/storage.js';

/** Delivers one outbox row. SMTP when configured; otherwise an `.eml` file under DATA_DIR/mail. */
export interface Mailer {
  /** Resolves with where the message went: the SMTP server, or the `.eml` file written. */
  send(row: OutboxRow): Promise<string>;
  readonly kind: 'smtp' | 'file';
}

/** A queued message as the outbox table holds it. */
export type OutboxRow = typeof emailOutbox.$inferSelect;

async function toNodemailerMessage(row: OutboxRow, from: string, storage: Storage) {
  const attachments = [];
  for (const a of row.attachments) {
    const content = await storage.get(a.storageKey);
    if (!content) throw new Error(`attachment ${a.filename} is missing from storage`);
    attachments.push({ filename: a.filename, contentType: a.contentType, content });
  }
  return { from, to: row.to, subject: row.subject, text: row.text, html: row.html ?? undefined, attachments };
}

export function createMailer(config: Config, storage: Storage): Mailer {
  if (config.smtp) {
    const server = `smtp://${config.smtp.host}:${config.smtp.port}`;
    const transport = nodemailer.createTransport({
      host: config.smtp.host,
      port: config.smtp.port,
      secure: config.smtp.secure,
      // Plain SMTP to a local relay must work: only require TLS when the operator asked for it.
      ignoreTLS: !config.smtp.secure,
      auth: config.smtp.user ? { user: config.smtp.user, pass: config.smtp.pass ?? '' } : undefined,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    });
    return {
      kind: 'smtp',
      async send(row) {
        await transport.sendMail(await toNodemailerMessage(row, config.mailFrom, storage));
        return server;
      },
    };
  }
  const dir = path.join(config.dataDir, 'mail');
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    kind: 'file',
    async send(row) {
      const info = await transport.sendMail(await toNodemailerMessage(row, config.mailFrom, storage));
      await mkdir(dir, { recursive: true });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const file = path.join(dir, `${stamp}-${row.template}-${row.id}.eml`);
      await writeFile(file, info.message as Buffer);
      return file;
    },
  };
}
