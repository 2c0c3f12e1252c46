import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ok, successSchema } from '../../lib/envelope.js';
import type { PerIpLimit } from '../../plugins/security.js';
import { clientInfo } from '../auth/http.js';
import { sendOtpBody, verifyOtpBody } from './schemas.js';
import type { OtpService } from './service.js';

export const otpRoutes: FastifyPluginAsyncZod<{ otp: OtpService; authLimit: PerIpLimit }> = async (
  app,
  { otp, authLimit: perIpLimit },
) => {
  app.post(
    '/send',
    {
      config: perIpLimit,
      schema: {
        tags: ['OTP'],
        summary: 'Mail a 6-digit verification code (valid 10 minutes; one per minute per address)',
        body: sendOtpBody,
        response: { 200: successSchema(z.null()) },
      },
    },
    async (request, reply) => {
      await otp.send(request.body.email, clientInfo(request));
      return ok(reply, 'OTP sent successfully', null);
    },
  );

  app.post(
    '/verify',
    {
      config: perIpLimit,
      schema: {
        tags: ['OTP'],
        summary: 'Confirm the emailed code (at most 5 attempts per code); marks the account verified',
        body: verifyOtpBody,
        response: { 200: successSchema(z.null()) },
      },
    },
    async (request, reply) => {
      await otp.verify(request.body.email, request.body.otp, clientInfo(request));
      return ok(reply, 'OTP verified successfully', null);
    },
  );
};
