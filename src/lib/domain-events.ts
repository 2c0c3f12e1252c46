import type { FastifyBaseLogger } from 'fastify';

/**
 * What an operator wants to see happen, each logged once, at the level it deserves, by the code that made it
 * happen once its transaction has committed. Fields name records by id and never carry secrets: no passwords,
 * tokens, codes, signed links or message bodies.
 */
const LEVELS = {
  'payment.confirmed': 'info',
  'payment.refused': 'warn',
  'payment.duplicate': 'warn',
  'payment.failed': 'info',
  'payment.cancelled': 'info',
  'refund.issued': 'info',
  'refund.completed': 'info',
  'refund.failed': 'error',
  'mail.delivered': 'info',
  'mail.deferred': 'warn',
  'mail.abandoned': 'error',
  'account.locked': 'warn',
  'refresh_token.reused': 'warn',
  'session.revoked': 'info',
} as const satisfies Record<string, 'info' | 'warn' | 'error'>;

export type DomainEvent = keyof typeof LEVELS;

/** Logs one domain event: `event` is its name, `fields` its details (ids, counts, reasons). */
export type EventLog = (event: DomainEvent, fields: Record<string, unknown>, message: string) => void;

export function createEventLog(logger: FastifyBaseLogger): EventLog {
  return (event, fields, message) => logger[LEVELS[event]]({ event, ...fields }, message);
}
