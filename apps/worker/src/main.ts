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
  closeOnStopSignals(async () => {
    await app.close();
    await observability.tracing?.shutdown();
  });
  await app.get(RunbookWorkerService).stopped();
  await observability.tracing?.shutdown();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
