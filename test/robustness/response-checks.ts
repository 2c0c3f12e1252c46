import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { Config } from '../../src/config.js';

/** A 4xx/5xx answer: JSON `{ statusCode, success: false, message, code, errorSources[] }`. */
export function expectErrorEnvelope(res: LightMyRequestResponse, label: string) {
  expect(String(res.headers['content-type']), `${label}: content type`).toContain('application/json');
  let body: Record<string, unknown>;
  try {
    body = res.json();
  } catch {
    throw new Error(`${label}: error body is not JSON: ${res.body.slice(0, 300)}`);
  }
  expect(body, label).toMatchObject({ statusCode: res.statusCode, success: false });
  expect(typeof body.message === 'string' && body.message.length > 0, `${label}: message`).toBe(true);
  expect(typeof body.code === 'string' && /^[A-Z_]+$/.test(body.code), `${label}: code`).toBe(true);
  expect(Array.isArray(body.errorSources), `${label}: errorSources`).toBe(true);
  for (const source of body.errorSources as unknown[]) {
    expect(source, `${label}: errorSources entry`).toMatchObject({
      path: expect.any(String),
      message: expect.any(String),
    });
  }
}

// What a driver error, SQL text or a stack trace looks like when it leaks into a response.
const INTERNAL_DETAIL = [
  /\bat [\w.<>]+ \(?[^)\s]*:\d+:\d+\)?/, // stack frame
  /node_modules|\/src\/[\w/-]+\.ts/,
  /\b(relation|column|constraint) "[^"]+"/i,
  /syntax error at or near/i,
  /violates (unique|foreign key|check|not-null) constraint/i,
  /duplicate key value/i,
  /invalid input syntax for/i,
  /\bselect\b[^"]{1,200}\bfrom\b\s+"?\w+"?/i,
  /\b(insert into|update "\w+" set|delete from)\b/i,
  /ECONNREFUSED|ECONNRESET|Connection terminated/i,
  /\$argon2id?\$/,
];

/** Error bodies never carry stack traces, SQL, driver messages, password hashes or the signing secrets. */
export function expectNothingInternal(res: LightMyRequestResponse, label: string, config: Config) {
  const body = res.body;
  expect(body.includes(config.jwt.accessSecret), `${label}: access secret in body`).toBe(false);
  expect(body.includes(config.jwt.refreshSecret), `${label}: refresh secret in body`).toBe(false);
  if (res.statusCode < 400) return;
  // Only what the server wrote: the 404 handler echoes the requested path in errorSources.
  let text = body;
  try {
    const parsed = res.json() as { message?: string; errorSources?: { message?: string }[]; stack?: unknown };
    expect(parsed.stack, `${label}: stack in body`).toBeUndefined();
    text = [parsed.message, ...(parsed.errorSources ?? []).map((s) => s.message)].join('\n');
  } catch {
    // Not JSON: check the whole body.
  }
  for (const pattern of INTERNAL_DETAIL) {
    expect(pattern.test(text), `${label}: internal detail ${pattern} in ${text.slice(0, 300)}`).toBe(false);
  }
}
