/** Account emails, and the layout every email shares: each returns what `enqueueEmail` needs besides the recipient. */

export interface RenderedEmail {
  template: string;
  subject: string;
  text: string;
  html: string;
}

export const escapeHtml = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

const IGNORE_IF_UNASKED = 'If you did not ask for this, you can ignore this email.';

/** The HTML every email is wrapped in; `body` is already escaped. */
export function emailLayout(title: string, body: string, footer = IGNORE_IF_UNASKED): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body style="font-family:Arial,sans-serif;color:#222;max-width:560px;margin:auto;padding:24px">${body}
<p style="color:#888;font-size:12px">${escapeHtml(footer)}</p></body></html>`;
}

export function otpEmail(input: { name: string; code: string; validMinutes: number }): RenderedEmail {
  const { name, code, validMinutes } = input;
  return {
    template: 'otp',
    subject: 'Your OTP Code',
    text: [
      `Hello ${name},`,
      '',
      `Your verification code is ${code}.`,
      `It is valid for ${validMinutes} minutes and can be used once.`,
    ].join('\n'),
    html: emailLayout(
      'Your OTP Code',
      `<p>Hello ${escapeHtml(name)},</p>
<p>Your verification code is</p>
<p style="font-size:28px;font-weight:bold;letter-spacing:6px">${escapeHtml(code)}</p>
<p>It is valid for ${validMinutes} minutes and can be used once.</p>`,
    ),
  };
}

export function passwordResetEmail(input: {
  name: string;
  resetLink: string;
  validMinutes: number;
}): RenderedEmail {
  const { name, resetLink, validMinutes } = input;
  return {
    template: 'forget-password',
    subject: 'Password Reset',
    text: [
      `Hello ${name},`,
      '',
      'Open this link to choose a new password:',
      resetLink,
      '',
      `The link expires in ${validMinutes} minutes and works once.`,
    ].join('\n'),
    html: emailLayout(
      'Password Reset',
      `<p>Hello ${escapeHtml(name)},</p>
<p>Use the button below to choose a new password.</p>
<p><a href="${escapeHtml(resetLink)}" style="background:#2563eb;color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none">Reset Password</a></p>
<p>The link expires in ${validMinutes} minutes and works once.</p>`,
    ),
  };
}

/** A departure a customer has paid for moved or changed its price. */
export function departureChangedEmail(input: {
  name: string;
  tourTitle: string;
  guestCount: number;
  changes: string[];
  startDate: string;
  endDate: string;
}): RenderedEmail {
  const { name, tourTitle, guestCount, changes } = input;
  const dates = `${input.startDate} to ${input.endDate}`;
  return {
    template: 'departure-changed',
    subject: `Your trip "${tourTitle}" has changed`,
    text: [
      `Hello ${name},`,
      '',
      `Your paid booking for "${tourTitle}" (${guestCount} guest(s)) is affected by a change:`,
      ...changes.map((c) => `- ${c}`),
      '',
      `The trip now runs ${dates}. Your booking stays confirmed and the price you paid does not change.`,
      'If the new schedule does not suit you, reply to this email or contact us.',
    ].join('\n'),
    html: emailLayout(
      'Your trip has changed',
      `<p>Hello ${escapeHtml(name)},</p>
<p>Your paid booking for <strong>${escapeHtml(tourTitle)}</strong> (${guestCount} guest(s)) is affected by a change:</p>
<ul>${changes.map((c) => `<li>${escapeHtml(c)}</li>`).join('')}</ul>
<p>The trip now runs ${escapeHtml(dates)}. Your booking stays confirmed and the price you paid does not change.</p>
<p>If the new schedule does not suit you, reply to this email or contact us.</p>`,
      'You receive this email because you booked this trip.',
    ),
  };
}
