import { z } from 'zod';
import { emailSchema } from '../users/schemas.js';

export const sendOtpBody = z.object({ email: emailSchema });
export const verifyOtpBody = z.object({
  email: emailSchema,
  otp: z
    .string()
    .trim()
    .regex(/^\d{6}$/, 'OTP must be 6 digits'),
});
