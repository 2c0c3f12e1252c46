import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { proxiedTestDatabase, type TcpProxy } from '../helpers/tcp-proxy.js';

// The app reaches PostgreSQL through a proxy the test can cut, as if the database server went away.
let database: Awaited<ReturnType<typeof proxiedTestDatabase>>;
let proxy: TcpProxy;
let t: TestApp;

beforeAll(async () => {
  database = await proxiedTestDatabase();
  proxy = database.proxy;
  t = await buildTestApp({ databaseName: database.name, env: { DATABASE_URL: database.url } });
});
afterAll(async () => {
  await t.close();
  await database.close();
});

describe('database outage', () => {
  it('/ready is 503 while the database is unreachable and 200 again once it is back, without a restart', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);

    proxy.cut();
    const started = Date.now();
    const down = await t.app.inject({ method: 'GET', url: '/ready' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ success: false, code: 'SERVICE_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(5000);
    // Liveness does not depend on the database.
    expect((await t.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);

    proxy.restore();
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = (await t.app.inject({ method: 'GET', url: '/ready' })).statusCode;
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
  });
});
