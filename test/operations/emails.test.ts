import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API, decodeMail, deliverMail } from '../auth/helpers.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTour } from '../helpers/booking-fixtures.js';
import { createUser } from '../helpers/factories.js';

/** The local gateway page's path with its signed query, as a browser opens the payment link. */
const localPath = (url: string) => {
  const { pathname, search } = new URL(url);
  return `${pathname}${search}`;
};

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ env: { AUTH_RATE_LIMIT_MAX: '10000' } });
});
afterAll(() => t?.close());

/** The parts of a delivered message: content type → decoded body. */
function parts(raw: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const [, type, body] of raw.matchAll(
    /Content-Type: (text\/plain|text\/html)[^\n]*\n(?:[^\n]+\n)*\n([\s\S]*?)(?=\n--)/g,
  )) {
    found[type!] = decodeMail(body!);
  }
  return found;
}

async function payForBooking() {
  const owner = await createUser(t.ctx, { name: 'Nusrat Jahan' });
  const tour = await createTour(t.ctx, { costFrom: 1200, title: 'Sundarbans Mangrove Safari' });
  const booked = await t.app.inject({
    method: 'POST',
    url: `${API}/booking`,
    headers: owner.auth,
    payload: { tour: tour.id, guestCount: 1 },
  });
  const page = await t.app.inject({ method: 'GET', url: localPath(booked.json().data.paymentUrl) });
  const form = /<form method="post" action="([^"]+)">(.*?)<\/form>/s.exec(page.body)!;
  const fields = Object.fromEntries(
    [...form[2]!.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]),
  );
  const paid = await t.app.inject({
    method: 'POST',
    url: form[1]!.replace(/&amp;/g, '&'),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields as Record<string, string>).toString(),
  });
  expect(paid.statusCode).toBe(302);
}

describe('emails', () => {
  it('every email has a plain-text part and the same HTML layout, the invoice included', async () => {
    const user = await createUser(t.ctx, { isVerified: false });
    const ask = (url: string, email: string) =>
      t.app.inject({ method: 'POST', url: `${API}${url}`, payload: { email } });
    expect((await ask('/otp/send', user.email)).statusCode).toBe(200);
    expect((await ask('/auth/forgot-password', (await createUser(t.ctx)).email)).statusCode).toBe(200);
    await payForBooking();
    const { sent, failures } = await deliverMail(t);
    expect(failures).toEqual([]);
    expect(sent).toBe(3);

    const dir = path.join(t.dataDir, 'mail');
    const files = (await readdir(dir)).sort();
    const templates = files.map((f) => /-(otp|forget-password|invoice)-/.exec(f)?.[1]).sort();
    expect(templates).toEqual(['forget-password', 'invoice', 'otp']);
    for (const file of files) {
      const mail = parts(await readFile(path.join(dir, file), 'utf8'));
      expect(Object.keys(mail).sort(), file).toEqual(['text/html', 'text/plain']);
      expect(mail['text/plain']!.trim().length, file).toBeGreaterThan(40);
      expect(mail['text/plain'], file).not.toMatch(/<[a-z]/i);
      expect(mail['text/html'], file).toContain(
        '<body style="font-family:Arial,sans-serif;color:#222;max-width:560px;margin:auto;padding:24px">',
      );
    }
    const invoice = parts(
      await readFile(path.join(dir, files.find((f) => f.includes('-invoice-'))!), 'utf8'),
    );
    expect(invoice['text/plain']).toContain('Your booking for "Sundarbans Mangrove Safari" is confirmed.');
    expect(invoice['text/plain']).toContain('Amount paid: BDT 1,200.00');
    expect(invoice['text/html']).toContain('<title>Your Booking Invoice</title>');
    expect(invoice['text/html']).toContain('Nusrat Jahan');
  });
});
