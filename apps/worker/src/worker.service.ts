import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { LogNotifier, ResticDriver, WebhookNotifier, createActivities, killAllProcessGroups } from '@runbooks/activities';
import { WORKER_CONFIG } from './tokens';
import type { WorkerConfig } from './config';
import { createRunbookWorker } from './create-worker';
import { withFaultHold } from './fault-hold';

/**
 * Owns the worker's lifetime: connects and starts polling at bootstrap, keeps the run()
 * promise so its failure is surfaced, and on shutdown drains in-flight tasks before closing.
 */
@Injectable()
export class RunbookWorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RunbookWorkerService.name);
  private connection?: NativeConnection;
  private worker?: Worker;
  private running?: Promise<void>;

  constructor(@Inject(WORKER_CONFIG) private readonly config: WorkerConfig) {}

  async onApplicationBootstrap(): Promise<void> {
    const { config } = this;
    this.connection = await NativeConnection.connect({ address: config.temporalAddress });
    const notifier = config.notifyWebhookUrl ? new WebhookNotifier(config.notifyWebhookUrl) : new LogNotifier(config.notificationsLog);
    this.worker = await createRunbookWorker({
      connection: this.connection,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      activities: withFaultHold(
        createActivities({
          reportsDir: config.reportsDir,
          notifier,
          backup: config.resticLimitDownloadKiB
            ? new ResticDriver(undefined, undefined, { limitDownloadKiB: config.resticLimitDownloadKiB })
            : undefined,
          hosts: config.hosts,
          calendarFile: config.calendarFile,
          preApprovalsFile: config.preApprovalsFile,
        }),
        config.faultHold,
      ),
      workflowBundlePath: config.workflowBundlePath,
      shutdownGraceMs: config.shutdownGraceMs,
    });
    this.running = this.worker.run();
    this.running.catch((error) => {
      this.logger.error(`worker stopped with an error: ${String(error)}`);
      process.exitCode = 1;
    });
    this.logger.log(`polling task queue ${config.taskQueue} on ${config.temporalAddress} (namespace ${config.namespace})`);
  }

  async onApplicationShutdown(signal?: string): Promise<void> {
    this.logger.log(`shutting down${signal ? ` on ${signal}` : ''}: finishing in-flight tasks`);
    if (this.worker && this.worker.getState() === 'RUNNING') this.worker.shutdown();
    await this.running?.catch(() => undefined);
    await this.connection?.close();
    // Cancelled activities stopped their commands; whatever still runs would outlive the worker.
    killAllProcessGroups();
  }

  /** Resolves when the worker stops for any reason. */
  stopped(): Promise<void> {
    return this.running ?? Promise.resolve();
  }
}
