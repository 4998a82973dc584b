import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { killAllProcessGroups } from '@runbooks/activities';
import { loadWorkerConfig } from './config';
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
  const app = await NestFactory.createApplicationContext(WorkerModule.forConfig(loadWorkerConfig()));
  app.enableShutdownHooks();
  await app.get(RunbookWorkerService).stopped();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
