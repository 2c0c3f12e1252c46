import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOutbox } from '../../src/db/schema/index.js';
import {
  type AccountsTestApp,
  API,
  buildAccountsApp,
  decodeMail,
  deliverMail,
  expectNoSecretsInResponses,
  otpFromMail,
  STRONG_PASSWORD,
  testClock,
} from '../auth/helpers.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';

const clock = testClock(new Date('2030-06-01T09:00:00Z'));
let smtp: TestSmtpServer;
let t: AccountsTestApp;

beforeAll(async () => {
  smtp = await startSmtpServer();
  t = await buildAccountsApp({ clock, env: smtp.env });
});
afterAll(async () => {
  await t.close();
  await smtp.stop();
});

const codeFor = (email: string) => {
  const mail = smtp.messages.filter((m) => m.to.includes(email)).at(-1);
  if (!mail) throw new Error(`no mail for ${email}`);
  const code = otpFromMail(decodeMail(mail.raw));
  t.mailedSecrets.add(code);
  return code;
};

describe('account mail over plain SMTP', () => {
  const email = 'smtp-user@example.com';

  it('the verification code arrives at the SMTP server and verifies the account', async () => {
    expect(t.ctx.mailer.kind).toBe('smtp');
    const reg = await t.app.inject({
      method: 'POST',
      url: `${API}/user/register`,
      payload: { name: 'Mail User', email, password: STRONG_PASSWORD },
    });
    expect(reg.statusCode).toBe(201);
    expect(
      (await t.app.inject({ method: 'POST', url: `${API}/otp/send`, payload: { email } })).statusCode,
    ).toBe(200);
    expect((await deliverMail(t)).sent).toBe(1);
    const received = smtp.messages.at(-1)!;
    expect(received.to).toEqual([email]);
    expect(decodeMail(received.raw)).toMatch(/Subject: Your OTP Code/);
    const verify = await t.app.inject({
      method: 'POST',
      url: `${API}/otp/verify`,
      payload: { email, otp: codeFor(email) },
    });
    expect(verify.statusCode).toBe(200);
  });

  it('while SMTP is down the outbox keeps the mail and retries; it is delivered when SMTP returns', async () => {
    await smtp.stop();
    const before = smtp.messages.length;
    const forgot = await t.app.inject({
      method: 'POST',
      url: `${API}/auth/forgot-password`,
      payload: { email },
    });
    expect(forgot.statusCode).toBe(200);

    const failed = await deliverMail(t);
    expect(failed.sent).toBe(0);
    expect(failed.failures).toHaveLength(1);
    const [row] = await t.ctx.db
      .select()
      .from(emailOutbox)
      .where(eq(emailOutbox.template, 'forget-password'));
    expect(row).toMatchObject({ status: 'PENDING', attempts: 1 });
    expect(row!.lastError).toBeTruthy();

    await smtp.start();
    // Not due yet: the retry waits for its backoff.
    expect((await deliverMail(t)).sent).toBe(0);
    clock.advance(31);
    expect((await deliverMail(t)).sent).toBe(1);
    expect(smtp.messages.length).toBe(before + 1);
    const mail = decodeMail(smtp.messages.at(-1)!.raw);
    expect(mail).toMatch(/Subject: Password Reset/);
    expect(mail).toMatch(/http:\/\/localhost:3000\/reset-password\?id=[\w-]+&token=[\w-]+/);
    t.mailedSecrets.add(/token=([\w-]+)/.exec(mail)![1]!);
    const [sent] = await t.ctx.db
      .select()
      .from(emailOutbox)
      .where(eq(emailOutbox.template, 'forget-password'));
    expect(sent).toMatchObject({ status: 'SENT', attempts: 2 });
  });

  it('no response contained a secret', async () => {
    await expectNoSecretsInResponses(t);
  });
});
