import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from './context.js';
import type { JobHandlers } from './lib/job-queue.js';
import { createAccountSecurity } from './modules/auth/account-security.js';
import { createOidcClient } from './modules/auth/google/oidc-client.js';
import { createGoogleSignInService } from './modules/auth/google/service.js';
import { createPasswordService } from './modules/auth/passwords.js';
import { createAuthService } from './modules/auth/service.js';
import { createBookingCancellation } from './modules/bookings/cancellation.js';
import { expireStaleHolds } from './modules/bookings/hold-sweeper.js';
import { createBookingService } from './modules/bookings/service.js';
import { createDepartureService } from './modules/departures/service.js';
import { createDivisionService } from './modules/divisions/service.js';
import { createGuideService, mailAssignedGuide } from './modules/guides/service.js';
import { createOtpService } from './modules/otp/service.js';
import { createBookingPayments } from './modules/payments/booking-payments.js';
import { createInvoiceLinks } from './modules/payments/invoice-links.js';
import { createRefundService, REFUND_JOB } from './modules/payments/refunds.js';
import { createPaymentService } from './modules/payments/service.js';
import { createReviewService } from './modules/reviews/service.js';
import { createStatsService } from './modules/stats/service.js';
import { createTourService } from './modules/tours/service.js';
import { createTourTypeService } from './modules/tours/tour-type-service.js';
import { createUsersService } from './modules/users/service.js';
import type { WaitlistHandOff } from './modules/waitlists/hooks.js';
import {
  createWaitlistService,
  WAITLIST_OFFER_JOB,
  WAITLIST_OFFER_MAIL_JOB,
} from './modules/waitlists/service.js';
import { createAuthGuard } from './plugins/auth-guard.js';

/**
 * The composition root: every service is built here, once, from the app's dependencies. Route plugins are
 * handed the services they use; nothing else constructs a service.
 */
export function buildServices(ctx: AppContext, log: FastifyBaseLogger) {
  const { config, db, clock, storage, gateway, tokens, events } = ctx;
  const refunds = createRefundService({
    db,
    clock,
    gateway,
    gatewayTimeoutMs: config.gatewayTimeoutMs,
    events,
    pollSeconds: config.refundPollSeconds,
  });
  const accountSecurity = createAccountSecurity({ db });
  const invoiceLinks = createInvoiceLinks({ secret: config.jwt.accessSecret, publicUrl: config.publicUrl });
  const onBackgroundError = (err: unknown, what: string) =>
    log.warn({ err }, `${what} failed; the housekeeping job will retry`);
  // Bookings never import payments: what they need from it comes through this port.
  const bookingPayments = createBookingPayments({
    db,
    clock,
    gateway,
    storage,
    invoiceLinks,
    gatewayTimeoutMs: config.gatewayTimeoutMs,
    refunds,
    onBackgroundError,
  });
  // Seats freed by a cancellation or an expired hold go to those waiting, in the transaction that frees them.
  const handOff: WaitlistHandOff = (tx, departureIds) => waitlists.offerFreeSeats(tx, departureIds);
  // Cancelling bookings with their seats and refunds: the bookings service and, later, departures use it.
  const cancellation = createBookingCancellation({ clock, payments: bookingPayments, handOff });
  const bookings = createBookingService({
    db,
    clock,
    payments: bookingPayments,
    cancellation,
    holdMinutes: config.bookingHoldMinutes,
    holdLimits: config.holdLimits,
    requestTimeoutMs: config.requestTimeoutMs,
    holdDb: ctx.database.holdDb,
  });
  const waitlists = createWaitlistService({
    db,
    clock,
    bookings,
    cancellation,
    offerHours: config.waitlistOfferHours,
    limits: config.holdLimits,
  });
  // Handlers of the durable job queue (lib/job-queue.ts), by job kind: a module that enqueues a kind adds its
  // handler here.
  const jobHandlers: JobHandlers = {
    [REFUND_JOB]: refunds.process,
    [WAITLIST_OFFER_JOB]: waitlists.makeOffers,
    [WAITLIST_OFFER_MAIL_JOB]: waitlists.mailOffer,
  };
  return {
    guard: createAuthGuard({ db, tokens, config, clock }),
    auth: createAuthService({ db, clock, config, tokens, events }),
    passwords: createPasswordService({ db, clock, config, events }),
    googleSignIn: createGoogleSignInService({
      db,
      clock,
      config,
      tokens,
      oidc: config.google
        ? createOidcClient(config.google, Math.ceil(config.gatewayTimeoutMs / 1000))
        : undefined,
      onFailure: (reason, err) => log.warn({ err }, reason),
    }),
    accountSecurity,
    users: createUsersService({
      db,
      clock,
      accountSecurity,
      events,
      onAccountClosed: waitlists.endWaitsOfAccount,
    }),
    otp: createOtpService({ db, clock, config }),
    divisions: createDivisionService({ db, storage, log }),
    tours: createTourService({ db, storage, log, clock }),
    tourTypes: createTourTypeService({ db }),
    departures: createDepartureService({ db, clock, onGuideAssigned: mailAssignedGuide, cancellation }),
    guides: createGuideService({ db, clock }),
    bookings,
    waitlists,
    payments: createPaymentService({
      db,
      clock,
      gateway,
      storage,
      invoiceLinks,
      redirects: config.paymentRedirects,
      gatewayTimeoutMs: config.gatewayTimeoutMs,
      events,
      refunds,
      onBackgroundError,
    }),
    refunds,
    reviews: createReviewService({ db, clock }),
    stats: createStatsService({ db, clock }),
    jobHandlers,
    /** The hold sweeper's pass at `now`: expired holds end, and their seats go to those waiting. */
    expireHolds: (now: Date) => expireStaleHolds(db, bookingPayments, now, { handOff }),
  };
}

export type Services = ReturnType<typeof buildServices>;
