import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { NativeConnection } from '@temporalio/worker';
import {
  ResticDriver,
  SecretResolver,
  createActivities,
  createNotifier,
  debianCommands,
  killAllProcessGroups,
  loadPayloadCodec,
  serveMetrics,
  type HostActivitiesConfig,
} from '@runbooks/activities';
import { Store } from '@runbooks/store';
import { WORKER_CONFIG, WORKER_OBSERVABILITY } from './tokens';
import type { WorkerObservability } from './observability';
import type { WorkerConfig } from './config';
import { createRunbookWorker, type RunbookWorker } from './create-worker';
import { withFaultHold } from './fault-hold';
import { assertRunRetention } from './run-retention';

/**
 * Owns the worker's lifetime: connects and starts polling at bootstrap, keeps the run()
 * promise so its failure is surfaced, and on shutdown drains in-flight tasks before closing.
 */
@Injectable()
export class RunbookWorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RunbookWorkerService.name);
  private connection?: NativeConnection;
  private worker?: RunbookWorker;
  private running?: Promise<void>;
  private store?: Store;
  private metricsServer?: { close(): Promise<void> };

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(WORKER_OBSERVABILITY) private readonly observability: WorkerObservability,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { config } = this;
    // Migrations run before the worker polls (safe when several workers start at once).
    this.store = Store.open(config.store);
    await this.store.ready();
    this.connection = await NativeConnection.connect({ address: config.temporalAddress });
    await assertRunRetention(this.connection, config.namespace, config.runRetentionDays);
    const payloadCodec = await loadPayloadCodec(config.codecKeys, new SecretResolver(config.secrets));
    if (!payloadCodec) this.logger.warn('RUNBOOKS_CODEC_KEYS is not set: workflow histories are stored unencrypted');
    const notifier = createNotifier({
      slackBot: config.slackBot,
      webhookUrl: config.notifyWebhookUrl,
      consoleUrl: config.consoleUrl,
      logFile: config.notificationsLog,
    });
    this.worker = await createRunbookWorker({
      connection: this.connection,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      workerId: config.workerId,
      activities: withFaultHold(
        createActivities({
          store: this.store,
          reportsDir: config.reportsDir,
          retention: config.runRetentionDays > 0 ? { days: config.runRetentionDays } : undefined,
          dataDir: config.dataDir,
          notifier,
          backup: config.resticLimitDownloadKiB
            ? new ResticDriver(undefined, undefined, { limitDownloadKiB: config.resticLimitDownloadKiB })
            : undefined,
          hosts: withPackageRoot(config.hosts),
          calendarFile: config.calendarFile,
          preApprovalsFile: config.preApprovalsFile,
          // With the assertion keys, a secret a run resolves is checked against its launcher's signed roles.
          secrets: { ...config.secrets, assertions: config.assertions },
        }),
        config.faultHold,
      ),
      workflowBundlePath: config.workflowBundlePath,
      shutdownGraceMs: config.shutdownGraceMs,
      maxCachedWorkflows: config.maxCachedWorkflows,
      assertions: config.assertions,
      payloadCodec,
      observability: this.observability,
      runStatusCopies: this.store.runStatus,
    });
    await this.serveMetrics();
    if (!config.assertions) this.logger.warn('RUNBOOKS_ASSERTION_KEYS is not set: updates are not checked for the API signature');
    this.running = this.worker.run();
    this.running.catch((error) => {
      this.logger.error(`worker stopped with an error: ${String(error)}`);
      process.exitCode = 1;
    });
    this.logger.log(
      `polling task queues ${config.taskQueue} and ${this.worker.workerTaskQueue} on ${config.temporalAddress} (namespace ${config.namespace})`,
    );
  }

  async onApplicationShutdown(signal?: string): Promise<void> {
    this.logger.log(`shutting down${signal ? ` on ${signal}` : ''}: finishing in-flight tasks`);
    if (this.worker && this.worker.getState() === 'RUNNING') this.worker.shutdown();
    await this.running?.catch(() => undefined);
    await this.metricsServer?.close();
    await this.connection?.close();
    await this.store?.close();
    // Cancelled activities stopped their commands; whatever still runs would outlive the worker.
    killAllProcessGroups();
  }

  /** GET /metrics: ours, then the Temporal SDK's (read from its own loopback port) in the same scrape. */
  private async serveMetrics(): Promise<void> {
    const { metricsPort, metricsHost, sdkMetricsPort } = this.config;
    if (metricsPort === undefined || !this.observability.metrics) return;
    const sdkMetrics = sdkMetricsPort
      ? async () => {
          const response = await fetch(`http://127.0.0.1:${sdkMetricsPort}/metrics`);
          if (!response.ok) throw new Error(`the Temporal SDK's metrics answered ${response.status}`);
          return response.text();
        }
      : undefined;
    const server = await serveMetrics(this.observability.metrics, { host: metricsHost, port: metricsPort, extra: sdkMetrics });
    this.metricsServer = server;
    this.logger.log(`metrics at http://${metricsHost}:${server.port}/metrics`);
  }

  /** Resolves when the worker stops for any reason. */
  stopped(): Promise<void> {
    return this.running ?? Promise.resolve();
  }
}

/** The hosts configuration, with the Debian commands acting on RUNBOOKS_DEBIAN_PACKAGE_ROOT when it is set. */
function withPackageRoot({ debianPackageRoot, ...hosts }: WorkerConfig['hosts']): Omit<HostActivitiesConfig, 'store'> {
  return debianPackageRoot ? { ...hosts, osCommands: { debian: debianCommands(debianPackageRoot) } } : hosts;
}
