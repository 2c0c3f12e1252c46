import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/client.js';
import { unauthenticated } from '../lib/errors.js';

/** Prometheus metrics: request counts and latency by route and status, runtime metrics, pool usage. */
export function registerMetrics(app: FastifyInstance, config: Config, database: DatabaseHandle) {
  if (!config.metrics.enabled) return;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  const labelNames = ['method', 'route', 'status_code'] as const;
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const pool = database.pool;
  if (pool) {
    new Gauge({
      name: 'db_pool_connections',
      help: 'Database pool connections by state',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
  }

  // A plain callback hook (no promise per request); the label objects are made once per route, method and status.
  const labelSets = new Map<string, { method: string; route: string; status_code: string }>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (route !== '/metrics') {
      const key = `${request.method} ${reply.statusCode} ${route}`;
      let labels = labelSets.get(key);
      if (!labels) {
        labels = { method: request.method, route, status_code: String(reply.statusCode) };
        labelSets.set(key, labels);
      }
      requests.inc(labels);
      duration.observe(labels, reply.elapsedTime / 1000);
    }
    done();
  });

  app.get('/metrics', { schema: { hide: true }, config: { rateLimit: false } }, async (request, reply) => {
    if (config.metrics.token && request.headers.authorization !== `Bearer ${config.metrics.token}`) {
      throw unauthenticated('A valid metrics token is required');
    }
    reply.type(registry.contentType);
    return registry.metrics();
  });
}
