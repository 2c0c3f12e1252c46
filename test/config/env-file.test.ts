import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, readSettings } from '../../src/config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tour-env-file-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('.env file', () => {
  it('fills in what the environment does not set; a variable set in the environment wins', async () => {
    const file = path.join(dir, 'precedence.env');
    await writeFile(
      file,
      [
        '# a comment',
        'PORT=5123',
        'SUPER_ADMIN_EMAIL=from-file@example.com',
        'SMTP_FROM="Tours <tours@example.com>"',
        `DATA_DIR=${dir}`,
      ].join('\n'),
    );
    const { env, envFile } = readSettings(file, { SUPER_ADMIN_EMAIL: 'from-env@example.com' });
    expect(envFile).toBe(file);
    const config = loadConfig(env);
    expect(config.port).toBe(5123);
    expect(config.publicUrl).toBe('http://localhost:5123');
    expect(config.superAdmin.email).toBe('from-env@example.com');
    expect(config.mailFrom).toBe('Tours <tours@example.com>');
  });

  it('an empty value in the environment still wins over the file', async () => {
    const file = path.join(dir, 'empty.env');
    await writeFile(file, 'SMTP_HOST=smtp.example.com\n');
    const { env } = readSettings(file, { SMTP_HOST: '', DATA_DIR: dir });
    expect(loadConfig(env).smtp).toBeUndefined();
  });

  it('without the file the environment is used as it is', () => {
    const environment = { PORT: '5001' };
    const settings = readSettings(path.join(dir, 'missing.env'), environment);
    expect(settings).toEqual({ env: environment });
  });

  it('a .env that cannot be read stops start-up with its name', () => {
    expect(() => readSettings(dir, {})).toThrow(ConfigError);
    expect(() => readSettings(dir, {})).toThrow(dir);
  });
});
