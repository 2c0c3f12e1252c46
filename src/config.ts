import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { parseDuration } from './lib/duration.js';
import { passwordPolicyProblem } from './lib/password-policy.js';

/**
 * The one place environment variables are read. `loadConfig(env)` is pure apart from the
 * development-secrets file, so tests build configs from plain objects.
 */

// Empty counts as unset, as compose files pass `${NAME:-}` for a variable the operator left out.
const optionalBool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v === 'true' || v === '1' || v === 'yes'));

const bool = (fallback: boolean) => optionalBool.transform((v) => v ?? fallback);

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const seconds = parseDuration(v);
      if (seconds === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `"${v}" is not a duration (use e.g. 15m, 1d, 30d or seconds)`,
        });
        return z.NEVER;
      }
      return seconds;
    });

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const url = z.url({ protocol: /^https?$/ });

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(5000),
  // Loopback only: a development server is not reachable from the network unless asked. The container image
  // sets HOST=0.0.0.0, where the port is published on purpose.
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Unset: pretty lines in development or at a terminal, JSON lines otherwise.
  LOG_FORMAT: z.enum(['pretty', 'json']).optional(),
  DATABASE_URL: optionalString.pipe(z.string().startsWith('postgres').optional()),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(20),
  DATA_DIR: z.string().default('./data'),
  REDIS_URL: optionalString,
  PUBLIC_URL: optionalString.pipe(url.optional()),
  // Unset: CORS allows the usual local dev servers, and payment results land on this server's own pages.
  FRONTEND_URL: z.string().optional(),
  TRUST_PROXY: z.string().default('false'),

  JWT_ACCESS_SECRET: optionalString,
  JWT_ACCESS_EXPIRES: duration('15m'),
  JWT_REFRESH_SECRET: optionalString,
  JWT_REFRESH_EXPIRES: duration('30d'),
  REFRESH_GRACE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
  LEGACY_CLIENT_COMPAT: bool(false),
  // Unset: true when PUBLIC_URL is https.
  COOKIE_SECURE: optionalBool,
  COOKIE_SAMESITE: z
    .enum(['lax', 'strict', 'none', 'Lax', 'Strict', 'None'])
    .default('lax')
    .transform((v) => v.toLowerCase() as 'lax' | 'strict' | 'none'),

  SUPER_ADMIN_EMAIL: z.email().default('super@admin.local'),
  SUPER_ADMIN_PASSWORD: optionalString,

  SMTP_HOST: optionalString,
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(587),
  SMTP_USER: optionalString,
  SMTP_PASS: optionalString,
  SMTP_FROM: z.string().default('Tour Booking <no-reply@tour.local>'),
  SMTP_SECURE: bool(false),

  SSL_STORE_ID: optionalString,
  SSL_STORE_PASS: optionalString,
  SSL_PAYMENT_API: z.string().default('https://sandbox.sslcommerz.com/gwprocess/v4/api.php'),
  SSL_VALIDATION_API: z
    .string()
    .default('https://sandbox.sslcommerz.com/validator/api/validationserverAPI.php'),
  // Transaction Query API (by our tran_id); unset = merchantTransIDvalidationAPI.php on SSL_VALIDATION_API's host.
  SSL_TRANSACTION_QUERY_API: optionalString,
  // Refund API (initiate, then query by refund_ref_id); unset = the same merchantTransIDvalidationAPI.php.
  SSL_REFUND_API: optionalString,
  SSL_SUCCESS_FRONTEND_URL: optionalString,
  SSL_FAIL_FRONTEND_URL: optionalString,
  SSL_CANCEL_FRONTEND_URL: optionalString,
  // The built-in payment page confirms any payment: production needs SSLCommerz unless explicitly allowed.
  ALLOW_LOCAL_GATEWAY: bool(false),
  GATEWAY_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  /**
   * The longest wait, in seconds, before asking the gateway again about a refund it is still processing: the
   * first ask comes 20 s after it accepted the refund (sooner if this is shorter), each later one waits twice
   * as long, up to this.
   */
  REFUND_POLL_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 3600)
    .default(900),

  GOOGLE_CLIENT_ID: optionalString,
  GOOGLE_CLIENT_SECRET: optionalString,
  GOOGLE_CALLBACK_URL: optionalString,
  GOOGLE_ISSUER: z.string().default('https://accounts.google.com'),

  S3_ENDPOINT: optionalString,
  S3_REGION: z.string().default('us-east-1'),
  S3_BUCKET: optionalString,
  S3_ACCESS_KEY_ID: optionalString,
  S3_SECRET_ACCESS_KEY: optionalString,
  S3_FORCE_PATH_STYLE: bool(true),
  /** Public base URL of the bucket (e.g. a CDN); unset = images are served through the API's /uploads. */
  S3_PUBLIC_URL: optionalString.pipe(url.optional()),

  SEED_DEMO: bool(true),
  BOOKING_HOLD_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(30),
  MAX_ACTIVE_HOLDS_PER_USER: z.coerce.number().int().min(1).default(3),
  MAX_HELD_SEATS_PER_USER: z.coerce.number().int().min(1).default(20),
  /**
   * After an account's unpaid hold on a departure ends (cancelled or expired), how long before it may hold
   * seats there again: no one can renew a hold for ever while others wait. 0 turns it off.
   */
  REHOLD_COOLDOWN_MINUTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 60)
    .default(30),
  /** How long a waitlist offer (a pending booking made for the traveller) waits for payment. */
  WAITLIST_OFFER_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24)
    .default(12),
  RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(600),
  RATE_LIMIT_WINDOW: duration('1m'),
  AUTH_RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(10),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  UPLOAD_MAX_FILE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(5 * 1024 * 1024),
  UPLOAD_MAX_FILES: z.coerce.number().int().min(1).max(50).default(10),
  METRICS_ENABLED: bool(true),
  METRICS_TOKEN: optionalString,
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).default(30_000),
});

export type Env = z.input<typeof envSchema>;

function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true') return true;
  if (value === 'false' || value === '') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * SSLCommerz serves its transaction query API, which is also its refund API, next to the validation API,
 * on the same host.
 */
function defaultTransactionQueryApi(validationApi: string): string {
  try {
    return new URL('/validator/api/merchantTransIDvalidationAPI.php', validationApi).toString();
  } catch {
    throw new ConfigError(`SSL_VALIDATION_API: "${validationApi}" is not a URL`);
  }
}

// Values the example files show (and the "change me" family): a deployment still holding one runs with a
// secret everybody has read.
const EXAMPLE_SECRETS = new Set([
  'change-me',
  'change-me-too',
  'change-me-to-a-long-random-string',
  'change-me-to-another-long-random-string',
  'change-me-at-least-16-characters',
  'another-secret-at-least-16-characters',
  'secret',
  'password',
  'changeit',
]);
const PLACEHOLDER_PREFIX = /^(change|replace)[-_ ]?me|^your[-_ ]|^example[-_ ]|^placeholder/;

const isPlaceholder = (value: string) => {
  const v = value.trim().toLowerCase();
  return EXAMPLE_SECRETS.has(v) || PLACEHOLDER_PREFIX.test(v);
};

const JWT_SECRET_MIN_BYTES = 32;

/** What production refuses to run with, one line per variable, never quoting the value. */
function productionRefusals(e: z.output<typeof envSchema>): string[] {
  const problems: string[] = [];
  const placeholder = (name: string) =>
    `${name}: a placeholder from an example file; set a secret of your own`;
  const secrets = {
    JWT_ACCESS_SECRET: e.JWT_ACCESS_SECRET,
    JWT_REFRESH_SECRET: e.JWT_REFRESH_SECRET,
    SUPER_ADMIN_PASSWORD: e.SUPER_ADMIN_PASSWORD,
    METRICS_TOKEN: e.METRICS_TOKEN,
    SSL_STORE_PASS: e.SSL_STORE_PASS,
    SMTP_PASS: e.SMTP_PASS,
    GOOGLE_CLIENT_SECRET: e.GOOGLE_CLIENT_SECRET,
    S3_SECRET_ACCESS_KEY: e.S3_SECRET_ACCESS_KEY,
  };
  for (const [name, value] of Object.entries(secrets)) {
    if (value && isPlaceholder(value)) problems.push(placeholder(name));
  }
  const databasePassword = e.DATABASE_URL ? passwordOf(e.DATABASE_URL) : undefined;
  if (databasePassword && isPlaceholder(databasePassword)) {
    problems.push(`DATABASE_URL: its password is a placeholder from an example file (POSTGRES_PASSWORD?)`);
  }
  for (const name of ['JWT_ACCESS_SECRET', 'JWT_REFRESH_SECRET'] as const) {
    const value = e[name];
    if (value && !isPlaceholder(value) && Buffer.byteLength(value) < JWT_SECRET_MIN_BYTES) {
      problems.push(
        `${name}: must be at least ${JWT_SECRET_MIN_BYTES} bytes (e.g. the output of \`openssl rand -base64 48\`)`,
      );
    }
  }
  const weakPassword = e.SUPER_ADMIN_PASSWORD && passwordPolicyProblem(e.SUPER_ADMIN_PASSWORD);
  if (weakPassword && !isPlaceholder(e.SUPER_ADMIN_PASSWORD!)) {
    problems.push(`SUPER_ADMIN_PASSWORD: ${weakPassword}`);
  }
  return problems;
}

function passwordOf(databaseUrl: string): string | undefined {
  try {
    return decodeURIComponent(new URL(databaseUrl).password) || undefined;
  } catch {
    return undefined;
  }
}

/** Secrets a development run generates once and keeps under DATA_DIR, so restarts keep sessions valid. */
interface DevSecrets {
  jwtAccessSecret: string;
  jwtRefreshSecret: string;
  superAdminPassword: string;
  /** The demo accounts' password (files from older versions lack it: it is added). */
  demoPassword?: string;
  /** ISO time the file was written (files from older versions lack it: their modification time is used). */
  generatedAt?: string;
}

const demoPassword = () => `Demo-${randomBytes(6).toString('base64url')}`;

function loadDevSecrets(
  dataDir: string,
): DevSecrets & { file: string; generatedAt: string; demoPassword: string } {
  const file = path.join(dataDir, 'dev-secrets.json');
  let stored: DevSecrets;
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as DevSecrets;
  } catch {
    const secrets = {
      jwtAccessSecret: randomBytes(32).toString('base64url'),
      jwtRefreshSecret: randomBytes(32).toString('base64url'),
      superAdminPassword: `Admin-${randomBytes(6).toString('base64url')}`,
      demoPassword: demoPassword(),
      generatedAt: new Date().toISOString(),
    };
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
    return { ...secrets, file };
  }
  const generatedAt = stored.generatedAt ?? statSync(file).mtime.toISOString();
  if (stored.demoPassword) return { ...stored, demoPassword: stored.demoPassword, file, generatedAt };
  const completed = { ...stored, demoPassword: demoPassword(), generatedAt };
  writeFileSync(file, JSON.stringify(completed, null, 2), { mode: 0o600 });
  return { ...completed, file };
}

/**
 * The settings to run with: the process environment over those of a `.env` file in the working directory,
 * when there is one. A variable set in the environment always wins over the same one in the file.
 */
export function readSettings(
  file = '.env',
  environment: Record<string, string | undefined> = process.env,
): { env: Record<string, string | undefined>; envFile?: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { env: environment };
    throw new ConfigError(`Cannot read ${file}: ${(err as Error).message}`);
  }
  return { env: { ...parseEnv(text), ...environment }, envFile: path.resolve(file) };
}

export function loadConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  const production = e.NODE_ENV === 'production';

  if (production) {
    const missing = (['JWT_ACCESS_SECRET', 'JWT_REFRESH_SECRET', 'SUPER_ADMIN_PASSWORD'] as const).filter(
      (k) => !e[k],
    );
    if (missing.length > 0) {
      throw new ConfigError(`Missing required secrets for NODE_ENV=production: ${missing.join(', ')}`);
    }
    const refusals = productionRefusals(e);
    if (refusals.length > 0) {
      throw new ConfigError(`Refused for NODE_ENV=production:\n${refusals.map((r) => `  ${r}`).join('\n')}`);
    }
    if (!(e.SSL_STORE_ID && e.SSL_STORE_PASS) && !e.ALLOW_LOCAL_GATEWAY) {
      throw new ConfigError(
        'SSL_STORE_ID and SSL_STORE_PASS are required for NODE_ENV=production: without them the built-in local ' +
          'gateway would accept payments nobody made (set ALLOW_LOCAL_GATEWAY=true only for a demo deployment)',
      );
    }
  }
  // The demo accounts sign in with a generated password in development only, so it is kept with these.
  const needsDevSecrets =
    !e.JWT_ACCESS_SECRET || !e.JWT_REFRESH_SECRET || !e.SUPER_ADMIN_PASSWORD || (!production && e.SEED_DEMO);
  const dev = needsDevSecrets ? loadDevSecrets(dataDir) : undefined;
  const accessSecret = e.JWT_ACCESS_SECRET ?? dev!.jwtAccessSecret;
  const refreshSecret = e.JWT_REFRESH_SECRET ?? dev!.jwtRefreshSecret;
  if (accessSecret === refreshSecret) {
    throw new ConfigError('JWT_ACCESS_SECRET and JWT_REFRESH_SECRET must differ');
  }
  for (const [name, value] of [
    ['JWT_ACCESS_SECRET', accessSecret],
    ['JWT_REFRESH_SECRET', refreshSecret],
  ] as const) {
    if (value.length < 16) throw new ConfigError(`${name} must be at least 16 characters`);
  }

  const frontendUrls = (e.FRONTEND_URL ?? 'http://localhost:3000,http://localhost:5173')
    .split(',')
    .map((s) => s.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  if (frontendUrls.length === 0) throw new ConfigError('FRONTEND_URL must name at least one origin');
  for (const u of frontendUrls) {
    if (!url.safeParse(u).success) throw new ConfigError(`FRONTEND_URL: "${u}" is not an http(s) URL`);
  }
  const frontendUrl = frontendUrls[0]!;
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  // Without a front end, the payer's browser lands on small result pages this server serves itself.
  const paymentResultBase = e.FRONTEND_URL ? `${frontendUrl}/payment` : `${publicUrl}/api/v1/payment/result`;

  const cookieSecure = e.COOKIE_SECURE ?? publicUrl.startsWith('https:');
  if (e.COOKIE_SAMESITE === 'none' && !cookieSecure) {
    throw new ConfigError('COOKIE_SAMESITE=none requires COOKIE_SECURE=true (browsers reject it otherwise)');
  }

  return {
    nodeEnv: e.NODE_ENV,
    isProduction: production,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    dataDir,
    redisUrl: e.REDIS_URL,
    publicUrl,
    frontendUrls,
    frontendUrl,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    jwt: {
      accessSecret,
      accessExpiresSeconds: e.JWT_ACCESS_EXPIRES,
      refreshSecret,
      refreshExpiresSeconds: e.JWT_REFRESH_EXPIRES,
      issuer: 'tour-booking-api',
      audience: 'tour-booking-clients',
    },
    refreshGraceSeconds: e.REFRESH_GRACE_SECONDS,
    legacyClientCompat: e.LEGACY_CLIENT_COMPAT,
    cookie: { secure: cookieSecure, sameSite: e.COOKIE_SAMESITE },
    superAdmin: {
      email: e.SUPER_ADMIN_EMAIL.trim().toLowerCase(),
      password: e.SUPER_ADMIN_PASSWORD ?? dev!.superAdminPassword,
      passwordGenerated: !e.SUPER_ADMIN_PASSWORD,
      /** Where a generated password is kept, and since when. */
      generatedPassword: e.SUPER_ADMIN_PASSWORD
        ? undefined
        : { file: dev!.file, generatedAt: new Date(dev!.generatedAt) },
    },
    smtp: e.SMTP_HOST
      ? { host: e.SMTP_HOST, port: e.SMTP_PORT, user: e.SMTP_USER, pass: e.SMTP_PASS, secure: e.SMTP_SECURE }
      : undefined,
    mailFrom: e.SMTP_FROM,
    sslcommerz:
      e.SSL_STORE_ID && e.SSL_STORE_PASS
        ? {
            storeId: e.SSL_STORE_ID,
            storePass: e.SSL_STORE_PASS,
            paymentApi: e.SSL_PAYMENT_API,
            validationApi: e.SSL_VALIDATION_API,
            transactionQueryApi:
              e.SSL_TRANSACTION_QUERY_API ?? defaultTransactionQueryApi(e.SSL_VALIDATION_API),
            refundApi: e.SSL_REFUND_API ?? defaultTransactionQueryApi(e.SSL_VALIDATION_API),
          }
        : undefined,
    paymentRedirects: {
      success: e.SSL_SUCCESS_FRONTEND_URL ?? `${paymentResultBase}/success`,
      fail: e.SSL_FAIL_FRONTEND_URL ?? `${paymentResultBase}/fail`,
      cancel: e.SSL_CANCEL_FRONTEND_URL ?? `${paymentResultBase}/cancel`,
    },
    gatewayTimeoutMs: e.GATEWAY_TIMEOUT_MS,
    refundPollSeconds: e.REFUND_POLL_SECONDS,
    google:
      e.GOOGLE_CLIENT_ID && e.GOOGLE_CLIENT_SECRET
        ? {
            clientId: e.GOOGLE_CLIENT_ID,
            clientSecret: e.GOOGLE_CLIENT_SECRET,
            callbackUrl: e.GOOGLE_CALLBACK_URL ?? `${publicUrl}/api/v1/auth/google/callback`,
            issuer: e.GOOGLE_ISSUER,
          }
        : undefined,
    s3:
      e.S3_BUCKET && e.S3_ACCESS_KEY_ID && e.S3_SECRET_ACCESS_KEY
        ? {
            endpoint: e.S3_ENDPOINT,
            region: e.S3_REGION,
            bucket: e.S3_BUCKET,
            accessKeyId: e.S3_ACCESS_KEY_ID,
            secretAccessKey: e.S3_SECRET_ACCESS_KEY,
            forcePathStyle: e.S3_FORCE_PATH_STYLE,
            publicUrl: e.S3_PUBLIC_URL?.replace(/\/+$/, ''),
          }
        : undefined,
    seedDemo: e.SEED_DEMO,
    /** The demo accounts' password and where it is kept; in production they get none and cannot sign in. */
    demoAccounts: !production && dev ? { password: dev.demoPassword, file: dev.file } : undefined,
    bookingHoldMinutes: e.BOOKING_HOLD_MINUTES,
    holdLimits: {
      maxActiveHolds: e.MAX_ACTIVE_HOLDS_PER_USER,
      maxHeldSeats: e.MAX_HELD_SEATS_PER_USER,
      reholdCooldownMinutes: e.REHOLD_COOLDOWN_MINUTES,
    },
    waitlistOfferHours: e.WAITLIST_OFFER_HOURS,
    rateLimit: { max: e.RATE_LIMIT_MAX, windowSeconds: e.RATE_LIMIT_WINDOW, authMax: e.AUTH_RATE_LIMIT_MAX },
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    uploads: { maxFileBytes: e.UPLOAD_MAX_FILE_BYTES, maxFiles: e.UPLOAD_MAX_FILES },
    // Production serves metrics only to the holder of a token: they show routes, load and pool sizes.
    metrics: {
      enabled: e.METRICS_ENABLED && (!production || Boolean(e.METRICS_TOKEN)),
      token: e.METRICS_TOKEN,
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
  };
}

export type Config = ReturnType<typeof loadConfig>;
