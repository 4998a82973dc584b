import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Runtime } from '@temporalio/worker';
import {
  RunbookMetrics,
  TemporalLogAdapter,
  closeOnStopSignals,
  createServiceLogger,
  killAllProcessGroups,
  nestLoggerFor,
  tracingFromEnv,
} from '@runbooks/activities';
import { loadWorkerConfig } from './config';
import { runbookOf } from './observability';
import { WorkerModule } from './worker.module';
import { RunbookWorkerService } from './worker.service';

/**
 * The worker process: a Nest application context (no HTTP) that stops cleanly on SIGINT/SIGTERM
 * (in-flight activities are cancelled after the grace, which stops their commands). Whatever
 * child process is still running when the process exits is killed with its group; a SIGKILL of
 * the worker reaches them through their parent-death signal instead (see spawnInGroup).
 */
async function main(): Promise<void> {
  process.on('exit', killAllProcessGroups);
  const config = loadWorkerConfig();
  const logger = createServiceLogger({ service: 'worker' });
  // Before any connection: the SDK's logs (its own, workflows', activities') go through our logger,
  // and its metrics to a local port the worker's /metrics reads.
  Runtime.install({
    logger: new TemporalLogAdapter(logger, runbookOf),
    telemetryOptions: {
      logging: { forward: {}, filter: 'WARN' },
      metrics: config.sdkMetricsPort ? { prometheus: { bindAddress: `127.0.0.1:${config.sdkMetricsPort}` } } : undefined,
    },
  });
  const observability = { metrics: new RunbookMetrics(), tracing: tracingFromEnv('runbooks-worker') };
  const app = await NestFactory.createApplicationContext(WorkerModule.forConfig(config, observability), { logger: nestLoggerFor(logger) });
  // The worker finishes its tasks in flight (the grace), then the spans still buffered are sent.
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      await app.close();
      await observability.tracing?.shutdown();
    })());
  closeOnStopSignals(close);
  // The workers may also stop without that handler: the SDK's runtime stops them on its own
  // signals (SIGQUIT, SIGUSR2, and a SIGTERM that arrives before the handler is in place). The
  // rest is closed then too, or its connection, store and metrics server keep the process alive.
  await app.get(RunbookWorkerService).stopped();
  await close();
}

main().then(
  () => process.exit(),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
