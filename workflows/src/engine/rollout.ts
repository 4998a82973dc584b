import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
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
  type HostRecord,
  type HostBatchResult,
  type OperatorAction,
  type CallerAssertion,
  type Principal,
  type ProcedureCall,
  type RolloutState,
} from '@runbooks/contracts';
import { patchBatch, rollbackBatch } from './fleet-batches';
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

/**
 * The parent side of a fleet rollout: waves split into child workflows of a few hundred hosts
 * (deterministic ids make a retried start find the same child), run one batch at a time so the
 * failure threshold is exact; operators steer it through Updates that are recorded and passed
 * on to the running batch at once. What happens on each host is the options' procedure.
 */
export class Rollout {
  readonly state: RolloutState;
  private current?: ChildWorkflowHandle<typeof patchBatch>;
  private byName?: Map<string, HostRecord>;
  private rollbackOnAbort = true;

  constructor(
    private readonly run: RunbookRun,
    private readonly options: RolloutOptions,
  ) {
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
    this.registerSteering();
  }

  /** Lays the hosts out in waves (wave 0 is the canary). */
  plan(waves: { name: string; hosts: string[] }[]): void {
    this.byName = undefined;
    this.state.waves = waves.map((w, index) => ({ index, name: w.name, hosts: w.hosts.length, state: 'pending' }));
    this.state.hosts = waves.flatMap((w, index) => w.hosts.map((name): HostRecord => ({ name, wave: index, state: 'pending' })));
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
    const hosts = this.state.hosts.filter((h) => h.wave === wave).map((h) => h.name);
    const batches = chunk(hosts, this.options.batchSize);
    for (let batch = options.fromBatch ?? 0; batch < batches.length; batch++) {
      await condition(() => (!this.state.paused && !this.state.windowClosed) || this.stopped);
      this.throwIfStopped(record);
      const result = await this.runBatch(wave, batch, batches[batch], Math.max(0, options.maxFailures - this.state.failures));
      this.merge(result, true);
      if (this.state.failures > options.maxFailures) {
        this.stop(`failure threshold passed: ${this.state.failures} hosts failed, at most ${options.maxFailures} tolerated`);
      }
      this.throwIfStopped(record);
      if (batch + 1 < batches.length) await this.run.continueAsNewIfSuggested({ wave, batch: batch + 1 } satisfies RolloutCursor);
    }
    record.state = 'baking';
    this.state.waitingFor = `bake time after ${record.name}: ${this.options.bakeSeconds} s`;
    await sleep(this.options.bakeSeconds * 1000);
    this.state.waitingFor = undefined;
    record.state = 'done';
    record.endedAt = now();
  }

  /** Undoes the procedure on every host this run changed and has not rolled back yet, batch by batch. */
  async rollBackChangedHosts(): Promise<void> {
    if (!this.rollbackOnAbort) return;
    const changed = this.state.hosts.filter((h) => h.state === 'patched' && h.snapshotId);
    for (const [k, hosts] of chunk(changed, this.options.batchSize).entries()) {
      const result = await (
        await startChild(rollbackBatch, {
          workflowId: `${this.run.state.runId}/rollback-${this.run.state.continuedAsNew ?? 0}-${k}`,
          args: [
            {
              runId: this.run.state.runId,
              procedure: this.options.procedure,
              hosts: hosts.map((h) => ({ name: h.name, snapshotId: h.snapshotId as string })),
              concurrency: this.state.concurrency,
              hostTimeoutSeconds: this.options.hostTimeoutSeconds,
            },
          ],
        })
      ).result();
      this.merge(result, false);
    }
  }

  private async runBatch(wave: number, batch: number, hosts: string[], failureBudget: number): Promise<HostBatchResult> {
    for (const h of hosts) this.host(h).state = 'patching';
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
        this.merge(await child.result(), true);
        throw error;
      });
    } finally {
      this.current = undefined;
    }
  }

  private merge(result: HostBatchResult, countFailures: boolean): void {
    for (const r of result.hosts) {
      const host = this.host(r.name);
      if (countFailures && (r.state === 'failed' || r.state === 'rolled_back' || r.state === 'rollback_failed')) this.state.failures += 1;
      // Kept compact: a 10,000-host run carries these across continue-as-new.
      host.state = r.state;
      host.snapshotId = r.snapshotId;
      host.error = r.error;
    }
    upsertSearchAttributes([
      { key: HostsTouchedAttr, value: this.state.hosts.filter((h) => h.state !== 'pending' && h.state !== 'skipped').length },
    ]);
  }

  private host(name: string): HostRecord {
    if (this.byName?.size !== this.state.hosts.length) this.byName = new Map(this.state.hosts.map((h) => [h.name, h]));
    const host = this.byName.get(name);
    if (!host) throw new Error(`host ${name} is not part of this rollout`);
    return host;
  }

  private stop(reason: string): void {
    this.state.stopReason ??= reason;
    void this.forwardControl();
  }

  private throwIfStopped(wave: { state: string; endedAt?: string }): void {
    if (!this.stopped) return;
    wave.state = 'stopped';
    wave.endedAt = now();
    for (const host of this.state.hosts) {
      if (host.state !== 'pending') continue;
      host.state = 'skipped';
      host.error = `not started: ${this.state.stopReason}`;
    }
    throw ApplicationFailure.create({ type: ROLLOUT_STOPPED, message: this.state.stopReason as string, nonRetryable: true });
  }

  /** The maintenance window closed or opened: batches pause or go on between hosts. */
  setWindowClosed(closed: boolean, reason?: string): void {
    const changed = (this.state.windowClosed ?? false) !== closed;
    this.state.windowClosed = closed;
    if (closed) this.state.waitingFor = reason;
    else if (changed) this.state.waitingFor = undefined; // clear only what the window wrote, not a bake message
    if (changed) void this.forwardControl();
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
          const record = this.state.hosts.find((h) => h.name === host);
          if (!record)
            throw ApplicationFailure.create({ type: RejectionType.notFound, message: `host ${host} is not part of this rollout` });
          // A skipped host stays pending until its batch passes it by; it is skipped once.
          if (this.state.skipped.includes(host)) {
            throw ApplicationFailure.create({ type: RejectionType.conflict, message: `host ${host} is already skipped` });
          }
          if (record.state !== 'pending') {
            throw ApplicationFailure.create({
              type: RejectionType.conflict,
              message: `host ${host} is already ${record.state}; only pending hosts can be skipped`,
            });
          }
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
