import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../src/context.js';
import { jobs, refunds } from '../../src/db/schema/index.js';
import { type JobWorkerOptions, runDueJobs } from '../../src/lib/job-queue.js';
import { buildServices } from '../../src/services.js';

/**
 * The app's job queue worker, as an instance runs it, on demand: tests build the app without background
 * jobs and run the due jobs at the time they choose. `ctx` overrides stand in for another instance's
 * dependencies (e.g. a gateway that dies halfway).
 */
export function jobWorker(app: FastifyInstance, overrides: Partial<AppContext> = {}) {
  const { jobHandlers } = buildServices({ ...app.ctx, ...overrides }, app.log);
  return (now: Date, options?: JobWorkerOptions) => runDueJobs(app.ctx.db, jobHandlers, now, options);
}

export async function refundRow(ctx: AppContext, refundId: string) {
  const [row] = await ctx.db.select().from(refunds).where(eq(refunds.id, refundId));
  return row!;
}

export async function refundJobs(ctx: AppContext, refundId: string) {
  const rows = await ctx.db.select().from(jobs).where(eq(jobs.kind, 'refund.process'));
  return rows.filter((j) => (j.payload as { refundId?: string }).refundId === refundId);
}
