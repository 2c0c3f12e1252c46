import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCode, freePort, startServer } from '../helpers/server-process.js';

// `npm start` with no configuration at all: embedded database, demo catalogue, mail as .eml files and the
// built-in payment page. A traveller goes from registration to a downloaded invoice over real HTTP.

let dataDir: string;
let server: Awaited<ReturnType<typeof startServer>>;
let base: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'tour-journey-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // A first PGlite start initialises the database files and loads the demo catalogue: slow on a busy machine.
  server = await startServer(
    { PORT: String(port), DATA_DIR: dataDir },
    { bare: true, startTimeoutMs: 150_000 },
  );
}, 180_000);
afterAll(async () => {
  if (server) {
    server.child.kill('SIGTERM');
    await exitCode(server.child);
  }
  await rm(dataDir, { recursive: true, force: true });
});

/** A path on our server, whatever host the server put in an absolute URL it generated. */
const local = (url: string) => {
  const u = new URL(url, base);
  return `${base}${u.pathname}${u.search}`;
};

async function call(method: string, url: string, body?: unknown, token?: string) {
  const res = await fetch(local(url), {
    method,
    redirect: 'manual',
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

/** Waits for the background sender to write a mail to `to` whose text matches `pattern`. */
async function waitForMail(to: string, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const dir = path.join(dataDir, 'mail');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.sort()) {
      // Undo quoted-printable soft line breaks so the text can be matched.
      const mail = (await readFile(path.join(dir, name), 'utf8')).replace(/=\r?\n/g, '');
      if (mail.includes(`To: ${to}`) && pattern.test(mail)) return mail;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`no mail to ${to} matching ${pattern}`);
}

describe('a traveller on a fresh `npm start`', () => {
  it('registers, verifies by emailed code, books, pays on the local gateway and downloads the invoice', async () => {
    expect(server.output()).toContain(`${'/docs'}`);
    const tours = (await call('GET', '/api/v1/tour?sort=startDate&limit=10')).json();
    expect(tours.meta.total).toBeGreaterThan(0);
    // The soonest tour not yet started (the demo catalogue also holds trips that already ran).
    const tour = tours.data.find(
      (x: { availableSeats: number | null; startDate: string }) =>
        Date.parse(x.startDate) > Date.now() && (x.availableSeats === null || x.availableSeats >= 2),
    );
    expect(tour).toBeDefined();

    const email = 'rahim.traveller@example.com';
    const password = 'Padma-River-2026';
    const registered = await call('POST', '/api/v1/user/register', {
      name: 'Rahim Uddin',
      email,
      password,
      phone: '01711111111',
      address: 'Mirpur 10, Dhaka',
    });
    expect(registered.status).toBe(201);

    const unverified = await call('POST', '/api/v1/auth/login', { email, password });
    expect(unverified.status).toBe(401);
    expect(unverified.json().message).toBe('User is not verified');

    expect((await call('POST', '/api/v1/otp/send', { email })).status).toBe(200);
    const otpMail = await waitForMail(email, /verification code is \d{6}/);
    const otp = /verification code is (\d{6})/.exec(otpMail)![1];
    expect((await call('POST', '/api/v1/otp/verify', { email, otp })).status).toBe(200);

    const login = await call('POST', '/api/v1/auth/login', { email, password });
    expect(login.status).toBe(200);
    const { accessToken } = login.json().data;
    const me = await call('GET', '/api/v1/user/me', undefined, accessToken);
    expect(me.json().data).toMatchObject({ email, auths: [{ provider: 'credentials', providerId: email }] });

    const booked = await call('POST', '/api/v1/booking', { tour: tour._id, guestCount: 2 }, accessToken);
    expect(booked.status).toBe(201);
    const { paymentUrl, booking } = booked.json().data;
    expect(booking.status).toBe('PENDING');
    expect(booking.payment.amount).toBe(tour.costFrom * 2);

    const page = await call('GET', paymentUrl);
    expect(page.status).toBe(200);
    const payForm = [...page.text.matchAll(/<form method="post" action="([^"]+)">(.*?)<\/form>/gs)].find(
      (m) => />\s*Pay\b/.test(m[2]!),
    );
    expect(payForm).toBeDefined();
    const fields = Object.fromEntries(
      [...payForm![2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
        m[1]!,
        m[2]!,
      ]),
    );
    const paid = await fetch(local(payForm![1]!.replace(/&amp;/g, '&')), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    expect(paid.status).toBe(302);
    // No front end is configured: the browser lands on this server's own result page.
    const landing = paid.headers.get('location')!;
    expect(new URL(landing).pathname).toBe('/api/v1/payment/result/success');
    const result = await call('GET', landing);
    expect(result.status).toBe(200);
    expect(result.text).toContain('Payment complete');

    const after = (await call('GET', `/api/v1/booking/${booking._id}`, undefined, accessToken)).json();
    expect(after.data.status).toBe('COMPLETE');

    const link = await call('GET', `/api/v1/payment/invoice/${booking.payment._id}`, undefined, accessToken);
    expect(link.status).toBe(200);
    const pdf = await fetch(local(link.json().data));
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');

    const invoiceMail = await waitForMail(email, /application\/pdf/);
    expect(invoiceMail).toMatch(/filename=.*\.pdf/);
  }, 120_000);
});
