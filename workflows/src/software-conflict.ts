import { ApplicationFailure, ParentClosePolicy, executeChild, patched, proxyLocalActivities, uuid4 } from '@temporalio/workflow';
import {
  AwaitingApprovalAttr,
  DEFAULT_HOST_TIMEOUT_SECONDS,
  RUN_MEMO,
  RequestedByAttr,
  RunStatusAttr,
  RunbookNameAttr,
  inputDigest,
  softwareFixRunbook,
  type LaunchAssertionActivities,
  type SoftwareFixInput,
  candidateFixes,
  describeFix,
  manualFixCommands,
  softwareConflictRunbook,
  type ConflictEvidence,
  type ConflictFix,
  type LegacySoftwareConflictInput,
  type RunState,
  type RunbookStartArgs,
  type SandboxTrial,
  type SoftwareConflictInput,
  type SoftwareFix,
} from '@runbooks/contracts';
import type { ReproductionRef, ReproductionResult } from '@runbooks/activities';
import { hostActionOptions, stepActivities } from './engine/activities';
import { RunbookRun } from './engine/run';

/** Failure types of this runbook: nothing to fix, or no fix found. */
export const NOT_REPRODUCED = 'ConflictNotReproduced';
export const NO_FIX_FOUND = 'NoConflictFixFound';
export const FIX_NOT_VERIFIED = 'ConflictFixNotVerified';
export const FLEET_NOT_LAUNCHED = 'FleetFixNotLaunched';

/**
 * Software conflict resolution (shared/docs/runbooks.md) on one host: identify (logs, versions,
 * ports, dpkg's recent changes), reproduce in a sandbox with the same packages, isolate by trying
 * fixes there until the reproduction passes, apply the winner to the host after approval (undone
 * if it does not verify, or on cancel), verify, and document it in the knowledge base.
 */
export async function softwareConflict(args: RunbookStartArgs<SoftwareConflictInput>): Promise<RunState> {
  const run = new RunbookRun(softwareConflictRunbook, args);
  const input = args.input as LegacySoftwareConflictInput;
  const { host } = input;
  // The reproduction is the catalogue's (resolved by the worker before each run) and runs first,
  // so a reproduction removed since the launch fails the run before anything ran on the host.
  // Runs launched before the catalogue carry `reproduce`: they replay as they ran; the worker
  // refuses to run their command (activities/src/hosts/conflict-reproductions.ts).
  const fromCatalogue = patched('reproduction-from-catalogue');
  const reproduce: ReproductionRef =
    input.reproduction !== undefined ? { reproduction: input.reproduction } : { command: input.reproduce ?? '' };
  const onHost = { activity: hostActionOptions(DEFAULT_HOST_TIMEOUT_SECONDS) };
  const key = (op: string) => `${run.idempotencyKey}/${op}/${host}`;

  return run.execute(async () => {
    const until = new Date(input.reportedAt);
    const since = new Date(until.getTime() - input.lookbackHours * 3600_000);
    const { evidence, onHostNow } = await run.step(
      'identify',
      async (a) => {
        const collect = () =>
          a.collectConflictEvidence({ host, since: since.toISOString(), until: until.toISOString(), packages: input.packages });
        if (fromCatalogue) {
          const onHostNow = await a.runReproduction({ host, ...reproduce });
          return { onHostNow, evidence: await collect() };
        }
        const evidence = await collect();
        return { evidence, onHostNow: await a.runReproduction({ host, ...reproduce }) };
      },
      {
        ...onHost,
        summarize: ({ evidence: e, onHostNow: r }) =>
          `${e.changes.length} package change(s) since ${since.toISOString()}: ${e.changes.map(changeLine).join('; ') || 'none'}; ` +
          `the reproduction${ranLine(r)} ${r.passes ? 'passes' : `fails (exit ${r.exitCode})`} on ${host}`,
        details: ({ evidence: e, onHostNow: r }) => ({
          involved: Object.fromEntries(sandboxPackages(input, e).map((p) => [p.package, p.version])),
          changes: e.changes,
          candidates: e.candidates,
          listening: e.listening,
          logs: e.logs,
          reproductionOnHost: r,
        }),
      },
    );
    if (onHostNow.ran) run.setOutcome({ reproduction: { name: onHostNow.ran.name, revision: onHostNow.ran.revision } });
    if (onHostNow.passes) fail(NOT_REPRODUCED, `the reproduction passes on ${host} now: there is nothing to fix`);

    const sandbox = await run.step(
      'reproduce-in-sandbox',
      async (a) => {
        // Registered first: a sandbox half built by a failed attempt is discarded too.
        const sandboxId = uuid4().replace(/-/g, '').slice(0, 16);
        run.onUndo('reproduce-in-sandbox', `Discard the sandbox ${sandboxId} on ${host}`, () =>
          stepActivities(onHost.activity, { attempted: () => undefined }).discardSandbox({ host, sandboxId }),
        );
        const made = await a.createSandbox({ host, sandboxId, packages: sandboxPackages(input, evidence) });
        return { ...made, reproduction: await a.runReproduction({ host, ...reproduce, sandboxId: made.sandboxId }) };
      },
      {
        ...onHost,
        summarize: (s) =>
          `sandbox ${s.dir} on ${host}: the reproduction${ranLine(s.reproduction)} ${s.reproduction.passes ? 'passes' : `fails (exit ${s.reproduction.exitCode})`}`,
        details: (s) => ({ sandboxId: s.sandboxId, dir: s.dir, reproduction: s.reproduction }),
      },
    );
    if (sandbox.reproduction.passes) {
      fail(
        NOT_REPRODUCED,
        `the sandbox does not reproduce the problem: it lacks a package the problem involves (add it to input.packages)`,
      );
    }

    const trials = await run.step(
      'isolate-in-sandbox',
      async (a) => {
        const tried: SandboxTrial[] = [];
        for (const [i, fix] of candidateFixes(evidence).entries()) {
          const trial = await a.trySandboxFix({ host, sandboxId: sandbox.sandboxId, trial: i + 1, fix, ...reproduce });
          tried.push(trial);
          if (trial.passes) break;
        }
        return tried;
      },
      {
        ...onHost,
        summarize: (t) => t.map((x) => `${describeFix(x.fix)}: ${x.passes ? 'passes' : 'still fails'}`).join('; ') || 'no candidate fix',
        details: (t) => ({ trials: t }),
      },
    );
    const winner = trials.find((t) => t.passes);
    if (!winner) {
      fail(
        NO_FIX_FOUND,
        trials.length === 0
          ? `dpkg's log shows no package change on ${host} in the ${input.lookbackHours} h before the report to undo or update`
          : `no candidate fix makes the reproduction pass in the sandbox (tried: ${trials.map((t) => describeFix(t.fix)).join('; ')})`,
      );
    }
    const { fix } = winner;
    run.setOutcome({ host, fix: describeFix(fix) });

    await run.approval('approve-fix', `On ${host}: ${describeFix(fix)} (it made the reproduction pass in the sandbox)`, {
      allowedRoles: ['approver'],
      requiredApprovals: 1,
      timeoutMs: input.approval.timeoutSeconds * 1000,
      escalation: [{ tier: 2, contact: input.approval.escalationContact }],
    });

    await run.step(
      'apply-fix',
      async (a) => {
        const { snapshotId } = await a.snapshotHost({ host, packages: [fix.package], idempotencyKey: key('snapshot') });
        run.onUndo('apply-fix', `Undo on ${host}: ${describeFix(fix)}`, () =>
          stepActivities(onHost.activity, { attempted: () => undefined }).undoConflictFix({
            host,
            fix,
            snapshotId,
            idempotencyKey: key('undo'),
          }),
        );
        return { snapshotId, ...(await a.applyConflictFix({ host, fix, idempotencyKey: key('fix') })) };
      },
      {
        ...onHost,
        summarize: (r) =>
          `${describeFix(fix)} on ${host}: ${r.package} is ${r.version ?? 'removed'} (snapshot ${r.snapshotId} for the undo)`,
      },
    );

    const verified = await run.step(
      'verify-fix',
      async (a) => {
        const reproduction = await a.runReproduction({ host, ...reproduce });
        const health = await a.checkHostHealth({ host, idempotencyKey: key('health') });
        if (!reproduction.passes || !health.healthy) {
          fail(
            FIX_NOT_VERIFIED,
            `after the fix on ${host}: ` +
              (reproduction.passes ? '' : `the reproduction still fails (exit ${reproduction.exitCode}: ${reproduction.output}); `) +
              (health.healthy ? '' : `the host is not healthy: ${health.detail}`),
          );
        }
        return { reproduction, health };
      },
      {
        ...onHost,
        summarize: (v) => `the reproduction${ranLine(v.reproduction)} passes on ${host}; ${v.health.detail}`,
        details: (v) => ({ reproduction: v.reproduction }),
      },
    );
    run.pointOfNoReturn();

    const cause = causeOf(fix, evidence);
    // The command as it reproduced the problem in the sandbox (the catalogue's, at the revision that ran).
    const reproduceCommand = sandbox.reproduction.ran?.command ?? input.reproduce ?? '';
    const article = await run.step(
      'write-knowledge-base',
      (a) =>
        a.writeKnowledgeBaseArticle({
          idempotencyKey: run.idempotencyKey,
          article: {
            title: `${input.symptom.split('\n')[0].slice(0, 150)}: ${describeFix(fix)}`,
            symptom: `${input.symptom}\nReproduced with: ${reproduceCommand} (exit ${sandbox.reproduction.exitCode}: ${sandbox.reproduction.output})`,
            cause,
            fix:
              `${describeFix(fix)}. Tried in a sandbox with the host's packages: ` +
              trials.map((t) => `${describeFix(t.fix)} (${t.passes ? 'passes' : `fails: ${t.detail}`})`).join('; ') +
              `. Applied to ${host} after approval; verified: the reproduction passes and ${verified.health.detail}.`,
            commands: [reproduceCommand, ...manualFixCommands(fix)],
            hosts: [host],
            runId: run.state.runId,
          },
        }),
      { summarize: (r) => `knowledge-base article ${r.id}: /v1/kb/${r.id}` },
    );
    const forFleet = fleetFix(fix, input, cause);
    run.setOutcome({ cause, knowledgeBaseArticle: `/v1/kb/${article.id}`, ...forFleet });

    await run.step('discard-sandbox', (a) => a.discardSandbox({ host, sandboxId: sandbox.sandboxId }), {
      ...onHost,
      summarize: () => `${sandbox.dir} removed from ${host}`,
    });

    const { fleet } = input;
    if (fleet) {
      await run.step('fleet-fix', () => rollOutOverFleet(run, args, { ...fleet, ticket: input.ticket }, forFleet.fleetFix?.fix), {
        summarize: (r) => r.summary,
        details: (r) => ({ ...r }),
      });
    }
  });
}

/**
 * Starts the fix over the fleet as a `software-fix` run (its child: canary, its own approval,
 * waves, threshold, per-host undo) and waits for it. The child is launched on behalf of whoever
 * launched this run: the worker signs its start arguments only after checking this run's own
 * launch was signed by the API (signChildLaunch), so it carries that person's authority, no more.
 */
async function rollOutOverFleet(
  run: RunbookRun<typeof softwareConflictRunbook>,
  args: RunbookStartArgs<SoftwareConflictInput>,
  fleet: Omit<SoftwareFixInput, 'fix'>,
  fix: SoftwareFix | undefined,
): Promise<{ summary: string; runId?: string; status?: string; hosts?: Record<string, number> }> {
  if (!fix) return { summary: 'a removal has no fleet form (software-fix installs a version): nothing started' };
  const input: SoftwareFixInput = { ...fleet, fix };
  const inputSha256 = inputDigest(input);
  const signed = await proxyLocalActivities<LaunchAssertionActivities>({ startToCloseTimeout: '10 seconds' }).signChildLaunch({
    parentWorkflowType: softwareConflictRunbook.workflowType,
    launch: run.launch,
    principal: args.principal,
    workflowType: softwareFixRunbook.workflowType,
    args: { input, requestedBy: args.requestedBy, inputSha256 },
  });
  if (!signed.args) fail(FLEET_NOT_LAUNCHED, `the fleet-wide fix was not started: ${signed.refusal}`);
  const runId = `${run.state.runId}.fleet-fix`;
  run.setOutcome({ fleetFixRun: runId });
  // The child may wait hours at its own gate: readers of this run must see its id now, not when it ends.
  run.publishCopy();
  const child = (await executeChild(softwareFixRunbook.workflowType, {
    workflowId: runId,
    args: [signed.args],
    // The child is a run like any: listed, followed and approved through the API.
    typedSearchAttributes: [
      { key: RunbookNameAttr, value: softwareFixRunbook.name },
      { key: RequestedByAttr, value: args.requestedBy.id },
      { key: RunStatusAttr, value: 'running' },
      { key: AwaitingApprovalAttr, value: false },
    ],
    memo: { [RUN_MEMO.inputSha256]: inputSha256 },
    // A cancelled or terminated parent asks the rollout to stop and undo, never leaves it half done unattended.
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
  })) as RunState;
  return {
    summary: `software-fix run ${runId} ${child.status}: ${describeCounts(child)} (/v1/runs/${runId}/report)`,
    runId,
    status: child.status,
    hosts: child.rollout?.counts,
  };
}

function describeCounts(state: RunState): string {
  const counts: Record<string, number> = state.rollout?.counts ?? {};
  return (
    Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ') || 'no host'
  );
}

/** The sandbox's packages: those the problem involves and those dpkg changed, at the host's versions. */
function sandboxPackages(
  input: Pick<SoftwareConflictInput, 'packages'>,
  evidence: ConflictEvidence,
): { package: string; version: string }[] {
  const names = [...new Set([...input.packages, ...evidence.changes.map((c) => c.package)])];
  return names
    .filter((name) => evidence.installed[name] !== undefined)
    .map((name) => ({ package: name, version: evidence.installed[name] }));
}

/**
 * The fix as a `software-fix` run's `fix`, for the other hosts with the same problem: launched
 * with their `targets`, it goes through the canary, approval and waves with the per-host undo.
 * A removal has no fleet form (software-fix installs a version).
 */
function fleetFix(
  fix: ConflictFix,
  input: Pick<SoftwareConflictInput, 'ticket'>,
  cause: string,
): { fleetFix?: { runbook: string; fix: SoftwareFix } } {
  if (fix.action === 'remove') return {};
  const reason = `${input.ticket ? `${input.ticket}: ` : ''}${cause}`.slice(0, 500);
  const base = { package: fix.package, version: fix.version, reason };
  return {
    fleetFix: { runbook: 'software-fix', fix: fix.action === 'rollback' ? { ...base, action: 'rollback', hold: fix.hold } : base },
  };
}

/** Which catalogued reproduction ran, for the report's lines: ` greeter-greets (revision 3)`. */
function ranLine(result: ReproductionResult): string {
  return result.ran ? ` ${result.ran.name} (revision ${result.ran.revision})` : '';
}

function causeOf(fix: ConflictFix, evidence: ConflictEvidence): string {
  const change = [...evidence.changes].reverse().find((c) => c.package === fix.package);
  return change
    ? `${changeLine(change)} at ${change.at} (dpkg's log): with ${fix.package} ${change.to ?? '(removed)'} the reproduction fails, ` +
        `and ${describeFix(fix)} makes it pass`
    : `${fix.package}: ${describeFix(fix)} makes the reproduction pass`;
}

function changeLine(c: ConflictEvidence['changes'][number]): string {
  return c.action === 'upgrade' ? `${c.package} ${c.from} → ${c.to}` : `${c.action} ${c.package} ${c.to ?? c.from ?? ''}`;
}

function fail(type: string, message: string): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
}
