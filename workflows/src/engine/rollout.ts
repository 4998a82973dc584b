import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import {
  HostsTouchedAttr,
  RejectionType,
  TERMINAL_RUN_STATUSES,
  abortRolloutUpdate,
  batchControlSignal,
  hasRole,
  pauseRolloutUpdate,
  resumeRolloutUpdate,
  setConcurrencyUpdate,
  skipHostUpdate,
  type BatchControl,
  type HostBatchResult,
  type OperatorAction,
  type CallerAssertion,
  type Principal,
  type ProcedureCall,
  type RolloutState,
} from '@runbooks/contracts';
import { DEFAULT_STEP_OPTIONS, localBookkeeping, stepActivities } from './activities';
import { patchBatch, rollbackBatch } from './fleet-batches';
import { HostBookInState, StoredHostBook, type HostBook, type MergeFrom } from './host-book';
import { now, type RunbookRun } from './run';
import { verifyCaller } from './signing';

export interface RolloutOptions {
  /** The per-host procedure every batch runs (see workflows/src/procedures). */
  procedure: ProcedureCall;
  concurrency: number;
  batchSize: number;
  maxFailures: number;
  bakeSeconds: number;
  hostTimeoutSeconds: number;
}

/** Where a rollout goes on after continue-as-new. */
export interface RolloutCursor {
  wave: number;
  batch: number;
}

const ROLLOUT_STOPPED = 'RolloutStopped';
const NO_TIMER_WITHOUT_BAKE_PATCH = 'no-timer-without-bake';

/**
 * The parent side of a fleet rollout: waves split into child workflows of a few hundred hosts
 * (deterministic ids make a retried start find the same child), run one batch at a time so the
 * failure threshold is exact; operators steer it through Updates that are recorded and passed
 * on to the running batch at once. What happens on each host is the options' procedure.
 */
export class Rollout {
  readonly state: RolloutState;
  private readonly book: HostBook;
  private current?: ChildWorkflowHandle<typeof patchBatch>;
  private rollbackOnAbort = true;

  constructor(
    private readonly run: RunbookRun,
    private readonly options: RolloutOptions,
  ) {
    const carried = run.state.rollout;
    // patched: runs started before kept every host's record in their state (and replay so); a run
    // continued as new goes on the way it began.
    const inStore = carried ? carried.counts !== undefined : patched('host-records');
    this.state = run.state.rollout ??= {
      paused: false,
      concurrency: options.concurrency,
      maxFailures: options.maxFailures,
      failures: 0,
      waves: [],
      hosts: [],
      skipped: [],
      operatorActions: [],
    };
    this.book = inStore
      ? new StoredHostBook(
          run.state.runId,
          this.state,
          options.batchSize,
          stepActivities(DEFAULT_STEP_OPTIONS, { attempted: () => undefined }),
          localBookkeeping(),
        )
      : new HostBookInState(this.state, options.batchSize);
    this.registerSteering();
  }

  /** Whether the hosts' records are in the store (the state keeps counts and the hosts in flight). */
  get recordsInStore(): boolean {
    return this.book instanceof StoredHostBook;
  }

  /** Runs that keep every host in their state: lays the hosts out in waves (wave 0 is the canary). */
  plan(waves: { name: string; hosts: string[] }[]): void {
    if (!(this.book instanceof HostBookInState)) throw new Error('this run plans its hosts in the store (planned)');
    this.state.waves = waves.map((w, index) => ({ index, name: w.name, hosts: w.hosts.length, state: 'pending' }));
    this.book.plan(waves);
  }

  /** Runs whose host records are in the store: the waves the plan there has, by size (wave 0 is the canary). */
  planned(waves: { name: string; hosts: number }[]): void {
    if (!(this.book instanceof StoredHostBook)) throw new Error('this run keeps its hosts in its state (plan)');
    this.state.waves = waves.map((w, index) => ({ index, name: w.name, hosts: w.hosts, state: 'pending' }));
    this.book.planned();
  }

  /** Hosts by state over the waves `inWave` picks (e.g. the canary), for step summaries. */
  hostCounts(inWave: (wave: number) => boolean) {
    return this.book.counts(inWave);
  }

  get stopped(): boolean {
    return this.state.stopReason !== undefined;
  }

  /**
   * Runs one wave batch by batch, from `fromBatch`; after each batch checks the threshold and
   * continues as new when the history grows; bakes when the wave is done. Throws RolloutStopped
   * when the threshold is passed or an operator aborts.
   */
  async runWave(wave: number, options: { maxFailures: number; fromBatch?: number }): Promise<void> {
    const record = this.state.waves[wave];
    record.state = 'running';
    record.startedAt ??= now();
    const batches = await this.book.batchCount(wave);
    for (let batch = options.fromBatch ?? 0; batch < batches; batch++) {
      await condition(() => (!this.state.paused && !this.state.windowClosed) || this.stopped);
      await this.throwIfStopped(record);
      const hosts = await this.book.batchHosts(wave, batch);
      const result = await this.runBatch(wave, batch, hosts, Math.max(0, options.maxFailures - this.state.failures));
      this.merge(result, 'patching');
      if (this.state.failures > options.maxFailures) {
        this.stop(`failure threshold passed: ${this.state.failures} hosts failed, at most ${options.maxFailures} tolerated`);
      }
      await this.throwIfStopped(record);
      if (batch + 1 < batches) await this.run.continueAsNewIfSuggested({ wave, batch: batch + 1 } satisfies RolloutCursor);
    }
    record.state = 'baking';
    this.state.waitingFor = `bake time after ${record.name}: ${this.options.bakeSeconds} s`;
    // patched: runs recorded before started a timer even for no bake (about a second per wave on the server's timer queue).
    if (this.options.bakeSeconds > 0 || !patched(NO_TIMER_WITHOUT_BAKE_PATCH)) await sleep(this.options.bakeSeconds * 1000);
    this.state.waitingFor = undefined;
    record.state = 'done';
    record.endedAt = now();
  }

  /** Undoes the procedure on every host this run changed and has not rolled back yet, batch by batch. */
  async rollBackChangedHosts(): Promise<void> {
    if (!this.rollbackOnAbort) return;
    let k = 0;
    for (let changed = await this.book.changedHosts(this.options.batchSize); changed.length > 0;) {
      for (const hosts of chunk(changed, this.options.batchSize)) {
        const result = await (
          await startChild(rollbackBatch, {
            workflowId: `${this.run.state.runId}/rollback-${this.run.state.continuedAsNew ?? 0}-${k++}`,
            args: [
              {
                runId: this.run.state.runId,
                procedure: this.options.procedure,
                hosts,
                concurrency: this.state.concurrency,
                hostTimeoutSeconds: this.options.hostTimeoutSeconds,
                ...(this.recordsInStore ? { recordHosts: true } : {}),
              },
            ],
          })
        ).result();
        this.merge(result, 'patched');
      }
      changed = await this.book.changedHosts(this.options.batchSize);
    }
  }

  private async runBatch(wave: number, batch: number, hosts: string[], failureBudget: number): Promise<HostBatchResult> {
    this.book.started(wave, hosts);
    this.run.publishCopy();
    // Started outside the cancellable scope: on a cancel the batch is told to stop and its
    // in-flight hosts finish (never half-patched), then the run undoes what was changed.
    const sent = this.control();
    const child = await CancellationScope.nonCancellable(() =>
      startChild(patchBatch, {
        workflowId: `${this.run.state.runId}/wave-${wave}/batch-${batch}`,
        args: [
          {
            runId: this.run.state.runId,
            wave,
            batch,
            hosts,
            procedure: this.options.procedure,
            control: sent,
            failureBudget,
            hostTimeoutSeconds: this.options.hostTimeoutSeconds,
            ...(this.recordsInStore ? { recordHosts: true } : {}),
          },
        ],
      }),
    );
    this.current = child;
    // Steering that arrived while the child was starting has not reached it yet.
    if (JSON.stringify(this.control()) !== JSON.stringify(sent)) await this.forwardControl();
    try {
      return await Promise.race([child.result(), CancellationScope.current().cancelRequested as Promise<never>]);
    } catch (error) {
      if (!isCancellation(error)) throw error;
      return await CancellationScope.nonCancellable(async () => {
        await child.signal(batchControlSignal, { ...this.control(), stop: true });
        this.merge(await child.result(), 'patching');
        throw error;
      });
    } finally {
      this.current = undefined;
    }
  }

  /** A batch's failures count against the threshold; a rollback's hosts were counted when their batch failed them. */
  private merge(result: HostBatchResult, from: MergeFrom): void {
    const failures = this.book.merge(result, from);
    if (from === 'patching') this.state.failures += failures;
    upsertSearchAttributes([{ key: HostsTouchedAttr, value: this.book.touched() }]);
    this.run.publishCopy();
  }

  private stop(reason: string): void {
    this.state.stopReason ??= reason;
    void this.forwardControl();
  }

  private async throwIfStopped(wave: { state: string; endedAt?: string }): Promise<void> {
    if (!this.stopped) return;
    wave.state = 'stopped';
    wave.endedAt = now();
    await this.book.skipPending(`not started: ${this.state.stopReason}`);
    throw ApplicationFailure.create({ type: ROLLOUT_STOPPED, message: this.state.stopReason as string, nonRetryable: true });
  }

  /** The maintenance window closed or opened: batches pause or go on between hosts. */
  setWindowClosed(closed: boolean, reason?: string): void {
    const changed = (this.state.windowClosed ?? false) !== closed;
    this.state.windowClosed = closed;
    if (closed) this.state.waitingFor = reason;
    else if (changed) this.state.waitingFor = undefined; // clear only what the window wrote, not a bake message
    if (changed) {
      this.run.publishCopy();
      void this.forwardControl();
    }
  }

  private control(): BatchControl {
    return {
      paused: this.state.paused || (this.state.windowClosed ?? false),
      concurrency: this.state.concurrency,
      skipped: this.state.skipped,
      stop: this.stopped,
    };
  }

  /** Tells the running batch at once; a batch that just finished needs no telling. */
  private async forwardControl(): Promise<void> {
    await this.current?.signal(batchControlSignal, this.control()).catch(() => undefined);
  }

  private record(action: OperatorAction['action'], principal: Principal, detail: string): RolloutState {
    this.state.operatorActions.push({ action, by: principal.id, at: now(), detail });
    this.run.publishCopy();
    void this.forwardControl();
    return this.state;
  }

  private registerSteering(): void {
    // Steering is checked like decisions: the principal must be the one the API signed for.
    const steerAs = (update: { name: string }) => ({
      validator: (args: { principal: Principal; assertion?: CallerAssertion }) => {
        verifyCaller(update.name, args);
        this.validateSteering(args.principal);
      },
    });
    setHandler(
      pauseRolloutUpdate,
      ({ principal, reason }) => {
        this.state.paused = true;
        return this.record('pause', principal, reason || 'paused');
      },
      steerAs(pauseRolloutUpdate),
    );
    setHandler(
      resumeRolloutUpdate,
      ({ principal, reason }) => {
        this.state.paused = false;
        return this.record('resume', principal, reason || 'resumed');
      },
      steerAs(resumeRolloutUpdate),
    );
    setHandler(
      setConcurrencyUpdate,
      ({ principal, concurrency }) => {
        const before = this.state.concurrency;
        this.state.concurrency = concurrency;
        return this.record('set-concurrency', principal, `concurrency ${before} -> ${concurrency}`);
      },
      steerAs(setConcurrencyUpdate),
    );
    setHandler(
      skipHostUpdate,
      ({ principal, host, reason }) => {
        this.state.skipped.push(host);
        return this.record('skip-host', principal, `${host}${reason ? `: ${reason}` : ''}`);
      },
      {
        validator: (args) => {
          const { principal, host } = args;
          verifyCaller(skipHostUpdate.name, args);
          this.validateSteering(principal);
          this.book.validateSkip(host, this.state.skipped);
        },
      },
    );
    setHandler(
      abortRolloutUpdate,
      ({ principal, reason, rollback }) => {
        this.rollbackOnAbort = rollback;
        this.run.state.cancellation = { by: principal.id, reason, at: now() };
        this.stop(`aborted by ${principal.id}: ${reason}`);
        return this.record('abort', principal, `${reason}${rollback ? ' (rolling back changed hosts)' : ' (no rollback)'}`);
      },
      steerAs(abortRolloutUpdate),
    );
  }

  private validateSteering(principal: Principal): void {
    if (!hasRole(principal, 'technician')) {
      throw ApplicationFailure.create({ type: RejectionType.forbidden, message: 'steering a rollout needs the technician role' });
    }
    if (this.stopped || TERMINAL_RUN_STATUSES.includes(this.run.state.status)) {
      throw ApplicationFailure.create({
        type: RejectionType.conflict,
        message: `the rollout is over (${this.state.stopReason ?? this.run.state.status})`,
      });
    }
  }
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
