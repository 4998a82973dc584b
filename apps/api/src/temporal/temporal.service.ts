import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Client, Connection, WorkflowUpdateRPCTimeoutOrCancelledError, type WorkflowHandle } from '@temporalio/client';
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { closeSafeGrpcRetry } from '@runbooks/activities/api-surface';
import type { Principal } from '@runbooks/contracts';
import type { ApiConfig } from '../config';
import { GrpcStatus, TemporalUnavailableError, WorkerNotAnsweringError, grpcCode } from '../http/errors';
import { API_CONFIG, PAYLOAD_CODEC, TEMPORAL_CONNECTION } from '../tokens';
import { tracingIsOn } from '../observability';

/** The process's one Connection, created lazily so the API can start before Temporal is up. */
export const temporalConnectionProvider = {
  provide: TEMPORAL_CONNECTION,
  inject: [API_CONFIG],
  useFactory: (config: ApiConfig): Connection => Connection.lazy({ address: config.temporalAddress, interceptors: [closeSafeGrpcRetry()] }),
};

/** Principals whose Client is kept at once; beyond it the least recently used is built again when needed. */
const MAX_PRINCIPAL_CLIENTS = 1_000;

/** Who waits on the other end of a call: the server alone, or a worker behind it (queries, updates). */
export type Answerer = 'server' | 'worker';

/**
 * Temporal access for the controllers: a shared Client for reads, a per-principal Client whose
 * identity names the user for actions that enter history, and a deadline on every call so
 * nothing hangs when the server or the worker is away.
 */
@Injectable()
export class TemporalService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TemporalService.name);
  private closed = false;
  /** The start-up check, awaited before the connection closes so its call is not cut off mid-retry. */
  private startupCheck: Promise<unknown> = Promise.resolve();
  readonly client: Client;

  constructor(
    @Inject(TEMPORAL_CONNECTION) readonly connection: Connection,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(PAYLOAD_CODEC) codec: PayloadCodec | null,
  ) {
    this.dataConverter = { payloadCodecs: codec ? [codec] : [] };
    this.client = new Client({
      connection,
      namespace: config.namespace,
      identity: 'api',
      dataConverter: this.dataConverter,
      interceptors: this.interceptors,
    });
  }

  /**
   * Carries the request's trace into the workflow (a header on start, update, signal) when tracing
   * is on; off, its spans would be no-ops and no header is written, but it cost each launch its wrapping.
   */
  private readonly interceptors = { workflow: tracingIsOn() ? [new OpenTelemetryWorkflowClientInterceptor()] : [] };

  /** Encrypts what the API sends and decrypts what it reads, with the workers' keys. */
  private readonly dataConverter: DataConverter;

  get namespace(): string {
    return this.config.namespace;
  }

  get taskQueue(): string {
    return this.config.taskQueue;
  }

  /**
   * A client acting for `principal`: `api:<id>` is recorded as the identity in workflow history.
   * The SDK takes the identity per Client, not per call, so one Client per principal id is kept:
   * building one per request cost each launch and decision its construction. A Client holds
   * nothing but that identity over the shared connection (no authority, nothing to revoke: the
   * guard checks the token on every request), and the map is bounded.
   */
  clientFor(principal: Principal): Client {
    const identity = `api:${principal.id}`;
    let client = this.principalClients.get(identity);
    if (client) {
      // Most recently used last, so the bound below drops the least recently used.
      this.principalClients.delete(identity);
    } else {
      client = new Client({
        connection: this.connection,
        namespace: this.config.namespace,
        identity,
        dataConverter: this.dataConverter,
        interceptors: this.interceptors,
      });
      if (this.principalClients.size >= MAX_PRINCIPAL_CLIENTS) {
        this.principalClients.delete(this.principalClients.keys().next().value as string);
      }
    }
    this.principalClients.set(identity, client);
    return client;
  }

  private readonly principalClients = new Map<string, Client>();

  handle(runId: string, principal?: Principal): WorkflowHandle {
    return (principal ? this.clientFor(principal) : this.client).workflow.getHandle(runId);
  }

  /**
   * Runs `fn` with a gRPC deadline of updateTimeoutMs. A deadline that passes while a worker
   * should answer becomes WorkerNotAnsweringError, otherwise TemporalUnavailableError; both are 503.
   */
  async call<T>(answerer: Answerer, fn: () => Promise<T>, timeoutMs = this.config.updateTimeoutMs): Promise<T> {
    try {
      return await this.connection.withDeadline(Date.now() + timeoutMs, fn);
    } catch (error) {
      if (this.closed)
        throw new TemporalUnavailableError('the API is shutting down: its connection to Temporal is closed', { cause: error });
      const code = grpcCode(error);
      const timedOut =
        error instanceof WorkflowUpdateRPCTimeoutOrCancelledError || code === GrpcStatus.DEADLINE_EXCEEDED || code === GrpcStatus.CANCELLED;
      if (timedOut && answerer === 'worker') {
        throw new WorkerNotAnsweringError(
          `the runbook worker is not answering (no answer within ${timeoutMs} ms): is a worker polling task queue ${this.config.taskQueue}?`,
          { cause: error },
        );
      }
      if (timedOut || code === GrpcStatus.UNAVAILABLE) {
        throw new TemporalUnavailableError(
          `the Temporal server at ${this.config.temporalAddress} is unreachable or did not answer within ${timeoutMs} ms`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  /** Readiness: the server answers getSystemInfo within `timeoutMs`. */
  async checkServer(timeoutMs: number): Promise<void> {
    await this.call('server', () => this.connection.workflowService.getSystemInfo({}), timeoutMs);
  }

  onApplicationBootstrap(): void {
    // Only a log line: the API serves health and docs while Temporal is still starting.
    this.startupCheck = this.checkServer(2_000).then(
      () => this.closed || this.logger.log(`Temporal at ${this.config.temporalAddress} answers (namespace ${this.config.namespace})`),
      (error: Error) => this.closed || this.logger.warn(`Temporal not reachable yet: ${error.message}`),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    await this.startupCheck;
    await this.connection.close();
  }
}
