import { mkdtemp, readFile, rm } from 'node:fs/promises';
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
  JWT_ACCESS_SECRET: 'prod-access-secret-0123456789',
  JWT_REFRESH_SECRET: 'prod-refresh-secret-0123456789',
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
    expect(config.holdLimits).toEqual({ maxActiveHolds: 3, maxHeldSeats: 20 });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.seedDemo).toBe(true);
    expect(config.sslcommerz).toBeUndefined();
  });

  it('generates development secrets once and keeps them in DATA_DIR', async () => {
    const first = loadConfig({ DATA_DIR: dataDir });
    const second = loadConfig({ DATA_DIR: dataDir });
    expect(second.jwt.accessSecret).toBe(first.jwt.accessSecret);
    expect(first.jwt.accessSecret).not.toBe(first.jwt.refreshSecret);
    const stored = JSON.parse(await readFile(path.join(dataDir, 'dev-secrets.json'), 'utf8'));
    expect(stored.superAdminPassword).toBe(first.superAdmin.password);
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
