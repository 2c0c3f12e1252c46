import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { Database, DatabaseHandle } from './db/client.js';
import type { Clock } from './lib/clock.js';
import type { EventLog } from './lib/domain-events.js';
import type { Mailer } from './lib/mail/mailer.js';
import type { Storage } from './lib/storage/storage.js';
import type { TokenService } from './modules/auth/tokens.js';
import type { PaymentGateway } from './modules/payments/gateway.js';

/**
 * The app's outside dependencies, built once by buildApp. Types only: the composition root (services.ts)
 * and the background jobs read it; route plugins receive the services built from it, never the context.
 */
export interface AppContext {
  config: Config;
  database: DatabaseHandle;
  db: Database;
  clock: Clock;
  storage: Storage;
  mailer: Mailer;
  gateway: PaymentGateway;
  tokens: TokenService;
  redis?: Redis;
  /** Domain events (payments, mail, sign-in security) for the operator's log. */
  events: EventLog;
}
