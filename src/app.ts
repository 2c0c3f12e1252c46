import { randomUUID } from 'node:crypto';
import path from 'node:path';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import type { DatabaseHandle } from './db/client.js';
import { scheduleBackgroundJobs } from './jobs.js';
import { type Clock, systemClock } from './lib/clock.js';
import { createEventLog } from './lib/domain-events.js';
import { validationError } from './lib/errors.js';
import { OneLinePerRequest } from './lib/logging.js';
import { createMailer, type Mailer } from './lib/mail/mailer.js';
import { createLocalStorage } from './lib/storage/local-storage.js';
import { createS3Storage } from './lib/storage/s3-storage.js';
import type { Storage } from './lib/storage/storage.js';
import { googleAuthRoutes } from './modules/auth/google/routes.js';
import { authRoutes } from './modules/auth/routes.js';
import { createTokenService } from './modules/auth/tokens.js';
import { bookingRoutes } from './modules/bookings/routes.js';
import { departureRoutes } from './modules/departures/routes.js';
import { divisionRoutes } from './modules/divisions/routes.js';
import { guideRoutes } from './modules/guides/routes.js';
import { healthRoutes } from './modules/health/routes.js';
import { otpRoutes } from './modules/otp/routes.js';
import type { PaymentGateway } from './modules/payments/gateway.js';
import { createGateway } from './modules/payments/gateway-choice.js';
import { refundRoutes } from './modules/payments/refund-routes.js';
import { paymentRoutes } from './modules/payments/routes.js';
import { reviewRoutes } from './modules/reviews/routes.js';
import { statsRoutes } from './modules/stats/routes.js';
import { tourRoutes } from './modules/tours/routes.js';
import { uploadsRoutes } from './modules/uploads/routes.js';
import { userRoutes } from './modules/users/routes.js';
import { waitlistRoutes } from './modules/waitlists/routes.js';
import { registerDocs } from './plugins/docs.js';
import { registerErrorHandling, sendError } from './plugins/errors.js';
import { registerLegacyIdResolution } from './plugins/legacy-ids.js';
import { registerMetrics } from './plugins/metrics.js';
import { requestLogSerializers } from './plugins/request-log.js';
import { registerSecurity } from './plugins/security.js';
import { buildServices } from './services.js';

export interface AppDeps {
  config: Config;
  database: DatabaseHandle;
  clock?: Clock;
  storage?: Storage;
  mailer?: Mailer;
  /** Payment gateway; default: SSLCommerz when configured, else the built-in local gateway. */
  gateway?: PaymentGateway;
  /** Background jobs (mail sender, hold sweeper). Tests turn them off and run the tasks directly. */
  runJobs?: boolean;
  /** Pino options, or false for silence (tests). */
  logger?: boolean | Record<string, unknown>;
}

const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.newPassword',
  '*.oldPassword',
  '*.otp',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
];

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, database } = deps;
  const app = Fastify({
    logger:
      deps.logger === false
        ? false
        : {
            level: config.logLevel,
            redact: { paths: REDACT, censor: '[redacted]' },
            serializers: requestLogSerializers,
            ...(typeof deps.logger === 'object' ? deps.logger : {}),
          },
    // A hop count is valid at runtime though the type omits it.
    trustProxy: config.trustProxy as boolean | string,
    bodyLimit: config.bodyLimitBytes,
    // Not `requestIdHeader`: with it Fastify takes the header as it comes. A client's id is kept only when
    // it is a short token, safe to echo in headers, logs and error bodies.
    requestIdHeader: false,
    logController: new OneLinePerRequest(),
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && /^[\w.:-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // Router-level failures (undecodable URL, overlong parameter) answer in the error envelope too.
    // They are answered before any hook runs, so the headers every answer needs are set here.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id).header('x-content-type-options', 'nosniff');
      return sendError(
        reply,
        error.code === 'FST_ERR_BAD_URL'
          ? validationError('url', 'The request URL is not validly encoded')
          : error,
      );
    },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);
  // Hooks every request runs are plain callbacks: an async hook costs a promise and a microtask per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // While shutting down, in-flight responses close their keep-alive connection so close() can finish.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: false, lazyConnect: false })
    : undefined;
  if (redis) {
    redis.on('error', (err) => app.log.warn({ err: err.message }, 'redis error'));
    app.addHook('onClose', async () => {
      redis.disconnect();
    });
  }

  const clock = deps.clock ?? systemClock;
  const storage =
    deps.storage ??
    (config.s3
      ? createS3Storage(config.s3, config.publicUrl)
      : createLocalStorage(path.join(config.dataDir, 'files'), config.publicUrl));
  const mailer = deps.mailer ?? createMailer(config, storage);
  const tokens = createTokenService(config);
  const gateway = deps.gateway ?? createGateway(config);
  const ctx: AppContext = {
    config,
    database,
    db: database.db,
    clock,
    storage,
    mailer,
    gateway,
    tokens,
    redis,
    events: createEventLog(app.log),
  };
  app.decorate('ctx', ctx);
  registerLegacyIdResolution(app, database.db);

  await registerSecurity(app, config, redis);
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: config.bodyLimitBytes });
  // Multipart bodies are read only by the catalogue writes that take files (registerUploadRoutes); elsewhere
  // one is accepted as an empty body, as the multipart plugin's own parser does, without its hooks.
  app.addContentTypeParser('multipart/form-data', (_request, _payload, done) => done(null));
  await registerDocs(app);
  registerMetrics(app, config, database);

  const services = buildServices(ctx, app.log);
  const { guard } = services;
  const authLimit = {
    rateLimit: { max: config.rateLimit.authMax, timeWindow: config.rateLimit.windowSeconds * 1000 },
  };
  await app.register(healthRoutes, { database, publicUrl: config.publicUrl });
  await app.register(uploadsRoutes, { storage });
  // Modules register here, each under /api/v1, each handed only the services it uses.
  await app.register(googleAuthRoutes, {
    googleSignIn: services.googleSignIn,
    config,
    prefix: '/api/v1/auth',
  });
  await app.register(divisionRoutes, {
    divisions: services.divisions,
    guard,
    config,
    prefix: '/api/v1/division',
  });
  await app.register(tourRoutes, {
    tours: services.tours,
    tourTypes: services.tourTypes,
    guard,
    config,
    prefix: '/api/v1/tour',
  });
  await app.register(departureRoutes, { departures: services.departures, guard, prefix: '/api/v1' });
  await app.register(guideRoutes, { guides: services.guides, guard, prefix: '/api/v1' });
  await app.register(waitlistRoutes, { waitlists: services.waitlists, guard, prefix: '/api/v1' });
  await app.register(authRoutes, {
    auth: services.auth,
    passwords: services.passwords,
    guard,
    config,
    authLimit,
    prefix: '/api/v1/auth',
  });
  await app.register(userRoutes, {
    users: services.users,
    accountSecurity: services.accountSecurity,
    guard,
    authLimit,
    prefix: '/api/v1/user',
  });
  await app.register(otpRoutes, { otp: services.otp, authLimit, prefix: '/api/v1/otp' });
  await app.register(statsRoutes, { stats: services.stats, guard, prefix: '/api/v1/stats' });
  await app.register(bookingRoutes, { bookings: services.bookings, guard, prefix: '/api/v1/booking' });
  await app.register(paymentRoutes, { payments: services.payments, guard, prefix: '/api/v1/payment' });
  await app.register(refundRoutes, { refunds: services.refunds, guard, prefix: '/api/v1/refunds' });
  await app.register(reviewRoutes, { reviews: services.reviews, guard, prefix: '/api/v1' });

  if (deps.runJobs !== false) scheduleBackgroundJobs(app, ctx, services.jobHandlers, services.expireHolds);
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's dependencies, for the server entry point and tests; modules get services instead. */
    ctx: AppContext;
  }
}
