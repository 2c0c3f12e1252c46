import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { TEST_ENV } from '../helpers/app.js';

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'tour-config-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

const production = {
  NODE_ENV: 'production',
  DATA_DIR: '',
  JWT_ACCESS_SECRET: 'prod-access-secret-0123456789abcdef',
  JWT_REFRESH_SECRET: 'prod-refresh-secret-0123456789abcdef',
  SUPER_ADMIN_PASSWORD: 'Prod-Admin-Pass-1',
  SSL_STORE_ID: 'store',
  SSL_STORE_PASS: 'store-pass',
};

describe('configuration', () => {
  it('uses the documented defaults when nothing is set', () => {
    const config = loadConfig({ DATA_DIR: dataDir });
    expect(config.port).toBe(5000);
    expect(config.jwt.accessExpiresSeconds).toBe(15 * 60);
    expect(config.jwt.refreshExpiresSeconds).toBe(30 * 86_400);
    expect(config.refreshGraceSeconds).toBe(10);
    expect(config.bookingHoldMinutes).toBe(30);
    expect(config.holdLimits).toEqual({ maxActiveHolds: 3, maxHeldSeats: 20, reholdCooldownMinutes: 30 });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.seedDemo).toBe(true);
    expect(config.sslcommerz).toBeUndefined();
  });

  it('listens on this machine only unless HOST says otherwise; the container image on every interface', async () => {
    expect(loadConfig({ DATA_DIR: dataDir }).host).toBe('127.0.0.1');
    expect(loadConfig({ DATA_DIR: dataDir, HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    const example = await readFile(new URL('../../.env.example', import.meta.url), 'utf8');
    expect(example).toMatch(/^HOST=127\.0\.0\.1$/m);
    const image = await readFile(new URL('../../deploy/Dockerfile', import.meta.url), 'utf8');
    expect(image).toMatch(/^\s+HOST=0\.0\.0\.0\b/m);
  });

  it('generates development secrets once and keeps them in DATA_DIR', async () => {
    const first = loadConfig({ DATA_DIR: dataDir });
    const second = loadConfig({ DATA_DIR: dataDir });
    expect(second.jwt.accessSecret).toBe(first.jwt.accessSecret);
    expect(first.jwt.accessSecret).not.toBe(first.jwt.refreshSecret);
    const stored = JSON.parse(await readFile(path.join(dataDir, 'dev-secrets.json'), 'utf8'));
    expect(stored.superAdminPassword).toBe(first.superAdmin.password);
  });

  it('keeps a demo password for the demo accounts with the development secrets, adding it to older files', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tour-config-demo-'));
    try {
      const file = path.join(dir, 'dev-secrets.json');
      const older = {
        jwtAccessSecret: 'older-access-secret-0123456789',
        jwtRefreshSecret: 'older-refresh-secret-0123456789',
        superAdminPassword: 'Admin-older-1',
        generatedAt: '2026-01-02T03:04:05.000Z',
      };
      await writeFile(file, JSON.stringify(older));
      const first = loadConfig({ DATA_DIR: dir });
      expect(first.demoAccounts?.password).toMatch(/^Demo-[\w-]{8}$/);
      expect(first.demoAccounts?.file).toBe(file);
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
        ...older,
        demoPassword: first.demoAccounts?.password,
      });
      expect(loadConfig({ DATA_DIR: dir }).demoAccounts?.password).toBe(first.demoAccounts?.password);
      expect(first.superAdmin.password).toBe('Admin-older-1');
      // Secrets all set: kept only because the demo data is loaded.
      expect(loadConfig({ ...TEST_ENV, SEED_DEMO: 'true', DATA_DIR: dir }).demoAccounts?.password).toBe(
        first.demoAccounts?.password,
      );
      expect(loadConfig({ ...TEST_ENV, DATA_DIR: dir }).demoAccounts).toBeUndefined();
      expect(loadConfig({ ...production, DATA_DIR: dir }).demoAccounts).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('accepts the legacy lifetime forms', () => {
    const config = loadConfig({
      ...TEST_ENV,
      DATA_DIR: dataDir,
      JWT_ACCESS_EXPIRES: '1d',
      JWT_REFRESH_EXPIRES: '3600',
    });
    expect(config.jwt.accessExpiresSeconds).toBe(86_400);
    expect(config.jwt.refreshExpiresSeconds).toBe(3600);
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ ...TEST_ENV, DATA_DIR: dataDir, PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ ...TEST_ENV, DATA_DIR: dataDir, JWT_ACCESS_EXPIRES: 'soon' })).toThrow(
      /JWT_ACCESS_EXPIRES/,
    );
    expect(() => loadConfig({ ...TEST_ENV, DATA_DIR: dataDir, FRONTEND_URL: 'not a url' })).toThrow(
      /FRONTEND_URL/,
    );
    expect(() => loadConfig({ ...TEST_ENV, DATA_DIR: dataDir, COOKIE_SAMESITE: 'none' })).toThrow(
      /COOKIE_SECURE/,
    );
    expect(() => loadConfig({ ...TEST_ENV, DATA_DIR: dataDir, MAX_ACTIVE_HOLDS_PER_USER: '0' })).toThrow(
      /MAX_ACTIVE_HOLDS_PER_USER/,
    );
  });

  it('refuses to start in production without secrets', () => {
    const { JWT_REFRESH_SECRET: _omitted, ...rest } = production;
    expect(() => loadConfig(rest)).toThrow(ConfigError);
    expect(() => loadConfig(rest)).toThrow(/JWT_REFRESH_SECRET/);
    expect(() => loadConfig({ ...production, JWT_REFRESH_SECRET: production.JWT_ACCESS_SECRET })).toThrow(
      /must differ/,
    );
  });

  it('refuses the built-in payment page in production unless a demo explicitly allows it', () => {
    const { SSL_STORE_ID: _id, SSL_STORE_PASS: _pass, ...withoutGateway } = production;
    expect(() => loadConfig(withoutGateway)).toThrow(/SSL_STORE_ID/);
    expect(loadConfig({ ...withoutGateway, ALLOW_LOCAL_GATEWAY: 'true' }).sslcommerz).toBeUndefined();
    expect(loadConfig(production).sslcommerz?.storeId).toBe('store');
  });

  it('puts the SSLCommerz transaction query and refund APIs next to the validation API unless they are set', () => {
    expect(loadConfig(production).sslcommerz).toMatchObject({
      transactionQueryApi: 'https://sandbox.sslcommerz.com/validator/api/merchantTransIDvalidationAPI.php',
      refundApi: 'https://sandbox.sslcommerz.com/validator/api/merchantTransIDvalidationAPI.php',
    });
    const live = loadConfig({
      ...production,
      SSL_VALIDATION_API: 'https://securepay.sslcommerz.com/validator/api/validationserverAPI.php',
    });
    expect(live.sslcommerz).toMatchObject({
      transactionQueryApi: 'https://securepay.sslcommerz.com/validator/api/merchantTransIDvalidationAPI.php',
      refundApi: 'https://securepay.sslcommerz.com/validator/api/merchantTransIDvalidationAPI.php',
    });
    const explicit = loadConfig({
      ...production,
      SSL_TRANSACTION_QUERY_API: 'https://q.example/query',
      SSL_REFUND_API: 'https://r.example/refund',
    });
    expect(explicit.sslcommerz).toMatchObject({
      transactionQueryApi: 'https://q.example/query',
      refundApi: 'https://r.example/refund',
    });
    expect(() => loadConfig({ ...production, SSL_VALIDATION_API: 'not a url' })).toThrow(
      /SSL_VALIDATION_API/,
    );
  });

  it('splits FRONTEND_URL into origins and uses the first as the redirect base', () => {
    const config = loadConfig({
      ...TEST_ENV,
      DATA_DIR: dataDir,
      FRONTEND_URL: 'https://a.example/, https://b.example',
    });
    expect(config.frontendUrls).toEqual(['https://a.example', 'https://b.example']);
    expect(config.paymentRedirects.success).toBe('https://a.example/payment/success');
  });
});

/** `KEY=value` lines of an example file, commented-out ones included. */
function exampleValues(file: string): Map<string, string> {
  const text = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
  const values = new Map<string, string>();
  for (const [, key, value] of text.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/gm)) {
    if (value!.trim()) values.set(key!, value!.trim());
  }
  return values;
}

/** The error loadConfig throws for these settings (fails the test when it does not throw). */
function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('what production refuses', () => {
  it('the values deploy/.env.example ships, naming every variable still holding one', () => {
    const shipped = exampleValues('deploy/.env.example');
    const message = refusal({
      ...production,
      JWT_ACCESS_SECRET: shipped.get('JWT_ACCESS_SECRET')!,
      JWT_REFRESH_SECRET: shipped.get('JWT_REFRESH_SECRET')!,
      SUPER_ADMIN_PASSWORD: shipped.get('SUPER_ADMIN_PASSWORD')!,
      // As deploy/compose.yaml builds it.
      DATABASE_URL: `postgres://tours:${shipped.get('POSTGRES_PASSWORD')}@postgres:5432/tours`,
    });
    for (const name of ['JWT_ACCESS_SECRET', 'JWT_REFRESH_SECRET', 'SUPER_ADMIN_PASSWORD', 'DATABASE_URL']) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain(shipped.get('JWT_ACCESS_SECRET'));
  });

  it.each(['JWT_ACCESS_SECRET', 'JWT_REFRESH_SECRET', 'SUPER_ADMIN_PASSWORD', 'METRICS_TOKEN'])(
    'the %s example in .env.example',
    (name) => {
      const example = exampleValues('.env.example').get(name);
      expect(example, `.env.example shows an example ${name}`).toBeDefined();
      expect(refusal({ ...production, [name]: example! })).toContain(name);
    },
  );

  it.each([
    ['JWT_ACCESS_SECRET', 'change-me-please-0123456789abcdefghij'],
    ['JWT_REFRESH_SECRET', 'CHANGEME-0123456789abcdefghijklmnopqrstuvwxyz'],
    ['SUPER_ADMIN_PASSWORD', 'Change_Me_Later-2024'],
    ['SSL_STORE_PASS', 'change-me'],
    ['SMTP_PASS', 'changeme'],
    ['METRICS_TOKEN', 'change-me-0123456789'],
  ])('%s set to a "change me" value (%s)', (name, value) => {
    expect(refusal({ ...production, [name]: value })).toContain(name);
  });

  it('JWT secrets shorter than 32 bytes', () => {
    expect(refusal({ ...production, JWT_ACCESS_SECRET: 'a'.repeat(31) })).toMatch(/JWT_ACCESS_SECRET.*32/);
    expect(refusal({ ...production, JWT_REFRESH_SECRET: 'b'.repeat(31) })).toMatch(/JWT_REFRESH_SECRET.*32/);
    const config = loadConfig({
      ...production,
      JWT_ACCESS_SECRET: 'a'.repeat(32),
      JWT_REFRESH_SECRET: 'b'.repeat(32),
    });
    expect(config.jwt.accessSecret).toBe('a'.repeat(32));
  });

  it.each([
    ['too short', 'Ab1-xyz'],
    ['too common', 'Password123'],
    ['too common, in other case', 'BANGLADESH1'],
  ])('a super admin password that is %s', (_label, password) => {
    expect(refusal({ ...production, SUPER_ADMIN_PASSWORD: password })).toContain('SUPER_ADMIN_PASSWORD');
    // Development keeps any password, so a local run can use a short one.
    expect(
      loadConfig({ ...TEST_ENV, DATA_DIR: dataDir, SUPER_ADMIN_PASSWORD: password }).superAdmin.password,
    ).toBe(password);
  });

  it('serves no metrics without METRICS_TOKEN', () => {
    expect(loadConfig(production).metrics.enabled).toBe(false);
    expect(loadConfig({ ...production, METRICS_TOKEN: 'scrape-0123456789abcdef' }).metrics).toMatchObject({
      enabled: true,
      token: 'scrape-0123456789abcdef',
    });
    expect(loadConfig({ ...TEST_ENV, DATA_DIR: dataDir }).metrics.enabled).toBe(true);
  });
});

describe('COOKIE_SECURE', () => {
  const base = { ...TEST_ENV, DATA_DIR: '' };
  it('defaults to true when PUBLIC_URL is https, false when it is http', () => {
    expect(loadConfig({ ...base, PUBLIC_URL: 'https://api.example.com' }).cookie.secure).toBe(true);
    expect(
      loadConfig({ ...base, PUBLIC_URL: 'https://api.example.com', COOKIE_SECURE: '' }).cookie.secure,
    ).toBe(true);
    expect(loadConfig({ ...base, PUBLIC_URL: 'http://localhost:5000' }).cookie.secure).toBe(false);
  });

  it('keeps an explicit setting', () => {
    expect(
      loadConfig({ ...base, PUBLIC_URL: 'https://api.example.com', COOKIE_SECURE: 'false' }).cookie.secure,
    ).toBe(false);
    expect(
      loadConfig({ ...base, PUBLIC_URL: 'http://localhost:5000', COOKIE_SECURE: 'true' }).cookie.secure,
    ).toBe(true);
  });

  it('lets an https deployment use COOKIE_SAMESITE=none without saying COOKIE_SECURE', () => {
    const config = loadConfig({ ...base, PUBLIC_URL: 'https://api.example.com', COOKIE_SAMESITE: 'none' });
    expect(config.cookie).toEqual({ secure: true, sameSite: 'none' });
  });
});
