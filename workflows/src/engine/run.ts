import {
  ApplicationFailure,
  CancellationScope,
  ContinueAsNew,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyLocalActivities,
  proxySinks,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import {
  AwaitingApprovalAttr,
  AwaitingTaskAttr,
  RejectionType,
  RunStatusAttr,
  TERMINAL_RUN_STATUSES,
  TemporalScheduledStartTimeAttr,
  argsDigest,
  hasAnyRole,
  launchAssertionName,
  requestCancelUpdate,
  runStateQuery,
  runStatusVersion,
  type RunStatusSinks,
  type RunState,
  type RunStatus,
  type RunbookDefinition,
  type LaunchAssertionActivities,
  type LaunchCredential,
  type RunbookStartArgs,
  type StepRecord,
  type GateRecord,
} from '@runbooks/contracts';
import type { NotifyInput, RunbookActivities } from '@runbooks/activities';
import { describeError, stepActivities } from './activities';
import { now } from './clock';
import { ApprovalGates, type ApprovalPolicy } from './approvals';
import { verifyCaller } from './signing';
import { publishCopyWhenActivationEnds } from './status-copy';
import { HumanTasks, type TaskSpec } from './tasks';

/** Failure types a run ends with: an approval said no, a step failed, or the code named a step its definition lacks. */
export const RUN_REJECTED = 'RunRejected';
export const STEP_FAILED = 'StepFailed';
export const UNKNOWN_STEP = 'UnknownStep';
export const LAUNCH_REFUSED = 'LaunchRefused';

/** The step, gate and task ids a definition declares (`as const`): any other id does not compile. */
export type StepId<D extends RunbookDefinition> = D['steps'][number]['id'];
export type GateId<D extends RunbookDefinition> = Extract<D['steps'][number], { approval: true }>['id'];
export type TaskId<D extends RunbookDefinition> = Extract<D['steps'][number], { task: true }>['id'];

export interface StepOptions<T> {
  /** Overrides of the default activity options (timeouts, retry policy, heartbeat). */
  activity?: ActivityOptions;
  /** One line for the status and the report. */
  summarize?: (result: T) => string;
  /** Structured facts for the report; never secrets. */
  details?: (result: T) => Record<string, unknown>;
  /** Attempts made by earlier tries of this step that the runbook started again (e.g. on another worker); the count goes on from them. */
  attemptsBefore?: number;
}

type Undo = (activities: RunbookActivities) => Promise<unknown>;

const REPORT_STEP_ID = 'write-report';

const { runStatus } = proxySinks<RunStatusSinks>();

/** Temporal's default `limit.historyCount.suggestContinueAsNew`: no history of ours should pass it. */
export const HISTORY_EVENTS_LIMIT = 4096;
/** Events a run may add between two continueAsNewIfSuggested calls (a batch's child and activities, a bake, the end), with room to spare. */
export const HISTORY_EVENTS_MARGIN = 512;
const CONTINUE_BEFORE_LIMIT_PATCH = 'continue-as-new-before-limit';

/**
 * The step engine: one per run. It records every step, gate and undo action, answers the
 * status query, keeps the search attributes current, undoes what was changed when the run
 * fails or is cancelled, and leaves the report behind. A runbook is then just its steps.
 */
export class RunbookRun<D extends RunbookDefinition = RunbookDefinition> {
  readonly state: RunState;
  readonly idempotencyKey: string;
  /** Undo actions by their index in state.compensations (closures cannot be carried across continue-as-new). */
  private readonly undoers = new Map<number, Undo>();
  private readonly approvals: ApprovalGates;
  private readonly tasks: HumanTasks;
  private published = 0;

  constructor(
    private readonly definition: D,
    private readonly args: RunbookStartArgs,
  ) {
    const info = workflowInfo();
    this.idempotencyKey = info.workflowId;
    this.state = args.carried
      ? { ...args.carried.state, input: args.input, continuedAsNew: (args.carried.state.continuedAsNew ?? 0) + 1 }
      : {
          runId: info.workflowId,
          runbook: definition.name,
          title: definition.title,
          requestedBy: args.requestedBy,
          requestedAt: info.startTime.toISOString(),
          schedule: args.scheduleId ? { id: args.scheduleId, fireTime: scheduledFireTime()?.toISOString() } : undefined,
          status: 'running',
          input: args.input,
          steps: definition.steps.map((s) => ({ id: s.id, title: s.title, state: 'pending', attempts: 0 })),
          gates: [],
          compensations: [],
        };
    const waitHooks = {
      onChange: () => this.publishStatus(),
      onRecord: () => this.publishCopy(),
      notify: (input: NotifyInput) => this.activities({}).notify(input),
    };
    this.approvals = new ApprovalGates(this.state, waitHooks);
    this.tasks = new HumanTasks(this.state, waitHooks);
    setHandler(runStateQuery, () => this.state);
    setHandler(
      requestCancelUpdate,
      ({ reason, principal }) => {
        this.state.cancellation = { by: principal.id, reason, at: now() };
        return this.state;
      },
      {
        validator: (args) => {
          verifyCaller(requestCancelUpdate.name, args);
          const { principal } = args;
          if (TERMINAL_RUN_STATUSES.includes(this.state.status)) {
            throw ApplicationFailure.create({ type: RejectionType.conflict, message: `run already ${this.state.status}` });
          }
          if (!hasAnyRole(principal, ['technician'])) {
            throw ApplicationFailure.create({ type: RejectionType.forbidden, message: 'cancelling a run needs the technician role' });
          }
        },
      },
    );
  }

  /** Runs one step: its activity calls are recorded with their attempts, result and error. */
  async step<T>(id: StepId<D>, body: (activities: RunbookActivities) => Promise<T>, options: StepOptions<T> = {}): Promise<T> {
    const record = this.stepRecord(id);
    record.state = 'running';
    record.startedAt ??= now(); // a step that spans continue-as-new keeps its first start
    this.publishCopy();
    try {
      const result = await body(this.activities(options.activity ?? {}, record, options.attemptsBefore));
      record.state = 'succeeded';
      record.summary = options.summarize?.(result);
      record.details = options.details?.(result);
      return result;
    } catch (error) {
      if (error instanceof ContinueAsNew) throw error; // the step goes on in the next run
      if (isCancellation(error)) {
        record.state = 'skipped';
        record.error = 'cancelled';
        throw error;
      }
      record.state = 'failed';
      record.error = describeError(error);
      // The run fails with what a person should read, not with the activity wrapper's message.
      throw ApplicationFailure.create({
        type: STEP_FAILED,
        message: `${record.title}: ${record.error}`,
        nonRetryable: true,
        cause: error as Error,
      });
    } finally {
      record.endedAt = now();
      this.publishCopy();
    }
  }

  /**
   * Hands the state to the worker, which keeps the store's copy that GET /v1/runs/{id} reads (a
   * sink: no history event, not called on replay). Called whenever the state changes in a way a
   * reader should see: steps, status, gates, tasks, batches. Once per activation, as it ends
   * (status-copy.ts): the copy then holds everything the activation changed.
   */
  publishCopy(): void {
    publishCopyWhenActivationEnds(this.publishCopyNow);
  }

  private readonly publishCopyNow = () => {
    runStatus.publish(this.state, runStatusVersion(this.state.continuedAsNew ?? 0, workflowInfo().historyLength, ++this.published));
  };

  /** An approval gate (also a step of the runbook): resolves when approved, throws when not. */
  async approval(id: GateId<D>, title: string, policy: ApprovalPolicy): Promise<void> {
    const record = this.stepRecord(id);
    record.state = 'running';
    record.startedAt = now();
    const ahead = await this.approvalsGivenAhead(id);
    // try/finally rather than the promise's .finally(): that costs three more promises (each with a
    // stack the SDK captures) and three microtask turns between the decision and the next step.
    let outcome: GateRecord;
    try {
      outcome = await this.approvals.open(id, title, policy, this.args.inputSha256, ahead);
    } finally {
      record.endedAt = now();
    }
    if (outcome.state === 'approved') {
      record.state = 'succeeded';
      record.summary = `approved by ${outcome.decisions
        .filter((d) => d.decision === 'approve')
        .map((d) => d.displayName)
        .join(', ')}`;
      return;
    }
    record.state = 'failed';
    record.error =
      outcome.state === 'expired'
        ? 'no decision before the approval timeout, after escalation'
        : `rejected by ${outcome.decisions
            .filter((d) => d.decision === 'reject')
            .map((d) => d.displayName)
            .join(', ')}`;
    throw ApplicationFailure.create({ type: RUN_REJECTED, message: record.error, nonRetryable: true });
  }

  /**
   * A human task (also a step of the runbook): the run waits until a person holding the
   * assignee's role (or a tier it escalated to) claims it and completes it with evidence that
   * fits the form. Returns that evidence; it is also in the step's details and the report.
   */
  async task<E extends Record<string, unknown> = Record<string, unknown>>(id: TaskId<D>, spec: TaskSpec): Promise<E> {
    const record = this.stepRecord(id);
    record.state = 'running';
    record.startedAt ??= now();
    try {
      const task = await this.tasks.open(id, spec);
      record.state = 'succeeded';
      record.summary = `done by ${task.completedBy?.displayName ?? 'nobody'}${task.escalations.length ? ` after ${task.escalations.length} escalation(s)` : ''}`;
      record.details = task.evidence;
      return task.evidence as E;
    } catch (error) {
      record.state = isCancellation(error) ? 'skipped' : 'failed';
      record.error = isCancellation(error) ? 'cancelled' : describeError(error);
      throw error;
    } finally {
      record.endedAt = now();
    }
  }

  /** A scheduled run looks for approvals given ahead for its schedule (and its fire time). */
  private async approvalsGivenAhead(gateId: string) {
    const { scheduleId, inputSha256 } = this.args;
    if (!scheduleId || !inputSha256) return undefined;
    const fireTime = scheduledFireTime() ?? workflowInfo().startTime;
    return this.activities({}).claimPreApprovals({
      scheduleId,
      gateId,
      fireTime: fireTime.toISOString(),
      inputSha256,
      runId: this.state.runId,
    });
  }

  /** Registers how to undo a change; on failure or cancel, undo runs in reverse order. */
  onUndo(stepId: StepId<D>, title: string, undo: Undo): void {
    // A run that continued as new registers its undo actions again; they match the carried records.
    let index = this.state.compensations.findIndex((c) => c.stepId === stepId && c.title === title);
    if (index < 0) index = this.state.compensations.push({ stepId, title, state: 'registered' }) - 1;
    this.undoers.set(index, undo);
  }

  /**
   * Marks the change as made and verified. From here on a failing step (a notification, the
   * report) is a warning and the run ends succeeded_with_warnings; nothing is undone. A cancel
   * is a person's explicit request and still undoes.
   */
  pointOfNoReturn(): void {
    if (this.state.pointOfNoReturn) return; // a run that continued as new passes it again
    const lastDone = this.state.steps.filter((s) => s.state === 'succeeded').at(-1);
    this.state.pointOfNoReturn = { at: now(), afterStep: lastDone?.id };
  }

  setOutcome(facts: Record<string, unknown>): void {
    this.state.outcome = { ...this.state.outcome, ...facts };
  }

  /** Runs the runbook body; whatever happens, undoes on failure and writes the report. */
  async execute(body: () => Promise<void>): Promise<RunState> {
    this.publishStatus();
    try {
      if (!this.args.carried) await this.admitLaunch();
      await body();
      this.state.status = 'succeeded';
    } catch (error) {
      if (error instanceof ContinueAsNew) throw error;
      const status = statusFor(error, this.state.cancellation !== undefined);
      if (this.state.pointOfNoReturn && status === 'failed') {
        this.warn(describeError(error));
        log.warn('a step failed after the point of no return; the change stays', { warning: describeError(error) });
        await CancellationScope.nonCancellable(() => this.finish());
        return this.state;
      }
      this.state.error = describeError(error);
      log.warn('run did not succeed; undoing its changes', { status, error: this.state.error });
      await CancellationScope.nonCancellable(() => this.undoAll());
      this.state.status = status;
      await CancellationScope.nonCancellable(() => this.finish());
      throw error;
    }
    // The work is done: a cancel arriving now must not leave a succeeded run without its report.
    await CancellationScope.nonCancellable(() => this.finish());
    return this.state;
  }

  /**
   * A launch setting fields only some roles may (the definition's admission.restrictedFields, e.g.
   * windowOverride: admin) must carry the API's signed word that its launcher holds them; the API
   * checked too, but anyone with Temporal access can start a workflow.
   */
  private async admitLaunch(): Promise<void> {
    const restricted = this.definition.admission?.restrictedFields?.(this.args.input as never) ?? [];
    if (restricted.length === 0 || !patched('launch-assertion')) return;
    const verdict = await proxyLocalActivities<LaunchAssertionActivities>({ startToCloseTimeout: '10 seconds' }).verifyLaunchAssertion({
      update: launchAssertionName(this.definition.workflowType),
      args: { ...this.args } as Record<string, unknown>, // a first run: nothing carried
      startedAt: workflowInfo().startTime.toISOString(),
      restricted: [...restricted],
    });
    if (verdict.refusal) throw ApplicationFailure.create({ type: LAUNCH_REFUSED, message: verdict.refusal, nonRetryable: true });
  }

  private launchCredential?: LaunchCredential;
  /**
   * The run's launch as activities that resolve its secrets need it (they check the launcher's
   * signed roles): computed from the start arguments, less what continue-as-new carried.
   */
  get launch(): LaunchCredential {
    this.launchCredential ??= {
      assertion: this.args.assertion,
      startArgsSha256: argsDigest({ ...this.args, carried: undefined } as Record<string, unknown>),
      startedAt: this.state.requestedAt,
      scheduled: this.args.scheduleId !== undefined,
    };
    return this.launchCredential;
  }

  /** Where the run goes on after continuing as new (undefined on the first run). */
  get cursor(): unknown {
    return this.args.carried?.cursor;
  }

  /**
   * Continues as new when Temporal suggests it, carrying the state and `cursor`; the history
   * starts afresh so no run nears the event or size limits. Call it between units of work.
   */
  async continueAsNewIfSuggested(cursor: unknown): Promise<void> {
    const { continueAsNewSuggested, historyLength } = workflowInfo();
    // Temporal suggests it only once the history has reached its limit (4,096 events by default), and
    // the work between two calls (a batch, a wave's bake, the run's end) adds more: go a margin before.
    // patched() only where the margin decides, so runs that never near it record no marker.
    const nearLimit = historyLength >= HISTORY_EVENTS_LIMIT - HISTORY_EVENTS_MARGIN && patched(CONTINUE_BEFORE_LIMIT_PATCH);
    if (!continueAsNewSuggested && !nearLimit) return;
    await condition(allHandlersFinished);
    log.info('continuing as new', { historyLength: workflowInfo().historyLength });
    await continueAsNew<(args: RunbookStartArgs) => Promise<RunState>>({
      ...this.args,
      carried: { state: { ...this.state, input: undefined }, cursor },
    });
  }

  private async undoAll(): Promise<void> {
    this.state.status = 'compensating';
    this.publishStatus();
    for (let i = this.state.compensations.length - 1; i >= 0; i--) {
      const record = this.state.compensations[i];
      const undo = this.undoers.get(i);
      if (record.state !== 'registered') continue;
      try {
        if (!undo) throw new Error('undo action was not registered again after continue-as-new');
        await undo(this.activities({}));
        record.state = 'done';
        const step = this.state.steps.find((s) => s.id === record.stepId);
        if (step && step.state === 'succeeded') step.state = 'compensated';
      } catch (error) {
        // Keep undoing the rest: a failed undo is reported, never hidden.
        record.state = 'failed';
        record.error = describeError(error);
      }
      record.at = now();
    }
  }

  private async finish(): Promise<void> {
    for (const step of this.state.steps) {
      if (step.state === 'pending' && step.id !== REPORT_STEP_ID) step.state = 'skipped';
    }
    this.state.endedAt = now();
    this.publishStatus();
    const reportStep = this.state.steps.find((s) => s.id === REPORT_STEP_ID);
    if (reportStep) {
      await this.step(REPORT_STEP_ID as StepId<D>, (a) => a.writeReport({ state: this.state }), {
        summarize: (r) => `report written to ${r.markdownPath}`,
      }).catch((error) => {
        log.error('report could not be written', { error: describeError(error) });
        // patched: runs recorded before this ended 'succeeded' here without a further status upsert.
        const succeeded = this.state.status === 'succeeded' || this.state.status === 'succeeded_with_warnings';
        if (succeeded && patched('report-failure-warns')) {
          this.warn(`the report could not be written: ${describeError(error)}`);
          this.publishStatus();
        }
      });
    }
    await condition(allHandlersFinished);
  }

  /** A failure after the point of no return (or of the report) that leaves the change in place. */
  private warn(warning: string): void {
    (this.state.warnings ??= []).push(warning);
    this.state.status = 'succeeded_with_warnings';
  }

  private publishStatus(): void {
    const awaiting = this.state.gates.some((g) => g.state === 'pending');
    const tasks = this.state.tasks ?? [];
    const awaitingTask = tasks.some((t) => t.state === 'open' || t.state === 'claimed');
    if (WAITING_STATUSES.includes(this.state.status)) {
      this.state.status = awaiting ? 'awaiting_approval' : awaitingTask ? 'awaiting_task' : 'running';
    }
    upsertSearchAttributes([
      { key: RunStatusAttr, value: this.state.status },
      { key: AwaitingApprovalAttr, value: awaiting },
      // Only runs with tasks set it, so runs recorded before tasks existed replay unchanged.
      ...(tasks.length > 0 ? [{ key: AwaitingTaskAttr, value: awaitingTask }] : []),
    ]);
    this.publishCopy();
  }

  private activities(options: ActivityOptions, record?: StepRecord, attemptsBefore = 0): RunbookActivities {
    return stepActivities(options, {
      attempted: (attempt) => {
        if (record) record.attempts = Math.max(record.attempts, attemptsBefore + attempt);
      },
    });
  }

  private stepRecord(id: string): StepRecord {
    const record = this.state.steps.find((s) => s.id === id);
    if (!record) {
      // A code defect no retry can mend: fail the run (and undo) rather than retry the workflow task forever.
      throw ApplicationFailure.create({
        type: UNKNOWN_STEP,
        nonRetryable: true,
        message: `step ${id} is not in the ${this.state.runbook} runbook definition (its steps: ${this.state.steps.map((s) => s.id).join(', ')})`,
      });
    }
    return record;
  }
}

/** The statuses of a run that is going on; publishStatus moves between them. */
const WAITING_STATUSES: readonly RunStatus[] = ['running', 'awaiting_approval', 'awaiting_task'];

function statusFor(error: unknown, cancelRequested: boolean): RunStatus {
  if (isCancellation(error) || cancelRequested) return 'cancelled';
  if (error instanceof ApplicationFailure && error.type === RUN_REJECTED) return 'rejected';
  return 'failed';
}

/** The fire time of a run a schedule started (Temporal sets it as a search attribute). */
function scheduledFireTime(): Date | undefined {
  return workflowInfo().typedSearchAttributes.get(TemporalScheduledStartTimeAttr);
}

export { now };
