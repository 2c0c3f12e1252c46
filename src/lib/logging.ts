import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import PinoPretty from 'pino-pretty';
import type { Config } from '../config.js';

/** How log lines are written: readable for a person at a terminal, JSON lines for a log collector. */
export type LogFormat = 'pretty' | 'json';

/** LOG_FORMAT when set; otherwise pretty in development or when a person watches the output, else JSON. */
export function chooseLogFormat(config: Config, outputIsTerminal: boolean): LogFormat {
  if (config.logFormat) return config.logFormat;
  return config.nodeEnv === 'development' || outputIsTerminal ? 'pretty' : 'json';
}

interface LogLine {
  level?: number;
  reqId?: string;
  req?: { method?: string; url?: string };
  res?: { statusCode?: number; code?: string };
  responseTime?: number;
  event?: string;
}

/**
 * One line per log entry: a finished request reads `GET /api/v1/tour 200 4 ms` (an error answer adds its code:
 * `GET /api/v1/tour/x 404 2 ms NOT_FOUND`); other entries show their
 * message, the domain event name and their fields. Warnings and errors carry the request id, which the
 * client also received as X-Request-Id.
 */
function prettyMessage(log: Record<string, unknown>, messageKey: string): string {
  const line = log as LogLine;
  const base =
    line.req?.method && line.res?.statusCode !== undefined
      ? `${line.req.method} ${line.req.url} ${line.res.statusCode} ${Math.round(line.responseTime ?? 0)} ms` +
        (line.res.code ? ` ${line.res.code}` : '')
      : `${line.event ? `${line.event}: ` : ''}${String(log[messageKey] ?? '')}`;
  return (line.level ?? 0) >= 40 && line.reqId ? `${base} [request ${line.reqId}]` : base;
}

/**
 * Pino options for the chosen format, merged into the app's logger options. `destination` is where the
 * lines go (default: standard output).
 */
export function logOutput(
  format: LogFormat,
  destination?: NodeJS.WritableStream,
): { stream?: NodeJS.WritableStream } {
  if (format === 'json') return destination ? { stream: destination } : {};
  return {
    stream: PinoPretty({
      destination: destination ?? 1,
      // Written before the process exits, so the last lines of a shutdown are never lost.
      sync: true,
      colorize: destination ? false : undefined,
      translateTime: 'SYS:HH:MM:ss.l',
      singleLine: true,
      ignore: 'pid,hostname,reqId,req,res,responseTime,event',
      messageFormat: prettyMessage,
    }),
  };
}

const LEVEL_VALUES: Record<string, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

/** Whether a logger at `current` writes entries of `level` (pino's numbering; silent writes none). */
const enabled = (current: string, level: 'debug' | 'info') =>
  (LEVEL_VALUES[current] ?? Number.POSITIVE_INFINITY) <= LEVEL_VALUES[level]!;

/**
 * One log line per request, when its answer has been sent, instead of Fastify's two (received, completed);
 * the arrival is logged at debug level only, to find requests that never finish. `req` and `res` go through
 * the logger's serializers and redaction like any other entry.
 */
export class OneLinePerRequest extends LogController {
  override incomingRequest(request: FastifyRequest) {
    if (enabled(request.log.level, 'debug')) request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply) {
    // Production often logs at warn: a successful request then costs nothing here.
    if (!error && !enabled(reply.log.level, 'info')) return;
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}
