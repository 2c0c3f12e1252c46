import type { FastifyInstance } from 'fastify';

/**
 * Runs `task` every `intervalMs` while the app is open (never two runs of one job at once); stopped on close.
 * Disabled when the app is built with `runJobs: false` (tests call the task directly).
 */
export function scheduleJob(
  app: FastifyInstance,
  name: string,
  intervalMs: number,
  task: () => Promise<unknown>,
) {
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      await task();
    } catch (err) {
      app.log.warn({ err, job: name }, 'background job failed');
    } finally {
      running = false;
    }
  }, intervalMs);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
}
