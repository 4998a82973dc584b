import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadWorkerConfig } from './config';
import { WorkerModule } from './worker.module';
import { RunbookWorkerService } from './worker.service';

/** The worker process: a Nest application context (no HTTP) that stops cleanly on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(WorkerModule.forConfig(loadWorkerConfig()));
  app.enableShutdownHooks();
  await app.get(RunbookWorkerService).stopped();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
