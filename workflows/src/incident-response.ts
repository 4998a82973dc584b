import { ApplicationFailure, type ActivityOptions } from '@temporalio/workflow';
import {
  diagnosisPlanOf,
  incidentResponseRunbook,
  type Diagnosis,
  type IncidentInput,
  type IncidentRecord,
  type IncidentScope,
  type JsonSchema,
  type RunState,
  type RunbookStartArgs,
  type TimelineEntry,
} from '@runbooks/contracts';
import type { NotifyInput, RunbookActivities } from '@runbooks/activities';
import { now } from './engine/clock';
import { describeError } from './engine/activities';
import { RunbookRun } from './engine/run';

/** Read-only probes of a whole plan: bounded by the probes' own timeouts, watched by the heartbeat. */
const DIAGNOSE: ActivityOptions = { startToCloseTimeout: '10 minutes', heartbeatTimeout: '30 seconds', retry: { maximumAttempts: 3 } };
const ACTION: ActivityOptions = { startToCloseTimeout: '5 minutes', heartbeatTimeout: '30 seconds', retry: { maximumAttempts: 3 } };
const RUNBOOK = 'runbook';

interface Choice {
  /** failover:<service>, rollback:<name> or none. */
  id: string;
  text: string;
  host?: string;
  apply?: string;
  undo?: string;
  /** The service that runs on its standby after this choice. */
  standbyOf?: string;
}

/**
 * Incident response (shared/docs/runbooks.md): scope, diagnose, logs, ISP and DNS, a remediation
 * chosen by a person and approved by severity, verification by a fresh diagnosis, notices to the
 * stakeholders, and a report that is the timeline and a post-incident review draft. Diagnosis is
 * read-only; the one change (failover or rollback) is behind the approval and undone when the
 * verification still finds a fault or the run is cancelled.
 */
export async function incidentResponse(args: RunbookStartArgs<IncidentInput>): Promise<RunState> {
  const run = new RunbookRun(incidentResponseRunbook, args);
  const input = args.input;
  const incident: IncidentRecord = {
    title: input.title,
    severity: input.severity,
    symptoms: input.symptoms,
    affected: { users: [...input.affected.users], services: [...input.affected.services], locations: [...input.affected.locations] },
    suspectedRunId: input.suspectedRunId,
    timeline: [],
    findings: [],
    logs: [],
    raw: [],
    security: input.security !== undefined,
  };
  run.state.incident = incident;
  const record = (kind: TimelineEntry['kind'], text: string, by = RUNBOOK, at = now()) => incident.timeline.push({ at, kind, by, text });
  record(
    'declared',
    `${input.severity} declared by ${args.requestedBy.displayName}: ${input.title}`,
    args.requestedBy.id,
    run.state.requestedAt,
  );

  return run.execute(async () => {
    const scope = await run.step(
      'scope',
      (a) =>
        a.resolveIncidentScope({
          services: input.affected.services,
          locations: input.affected.locations,
          users: input.affected.users,
          severity: input.severity,
          notify: input.notify,
        }),
      {
        activity: { retry: { maximumAttempts: 3 } },
        summarize: (s) =>
          `${s.services.map((x) => x.name).join(', ')} at ${s.locations.map((l) => l.name).join(', ')}; ` +
          `${s.affectedUsers.length} user(s) affected; devices: ${s.devices.map((d) => `${d.name} (${d.role})`).join(', ') || 'none'}`,
      },
    );
    incident.affected.users = scope.affectedUsers;
    const recipients = [...new Set([...scope.stakeholders, ...input.notify])];
    // Chat by the webhook for everyone; e-mail over SMTP for the recipients that are addresses.
    const mailTo = recipients.filter((r) => r.includes('@'));
    const notify = (
      step: 'notify-start' | 'notify-remediation' | 'notify-resolution',
      notice: Omit<NotifyInput, 'runId' | 'recipients' | 'idempotencyKey'>,
    ) =>
      run.step(
        step,
        async (a) => {
          const chat = await a.notify({ ...notice, runId: run.state.runId, recipients, idempotencyKey: `${run.idempotencyKey}/${step}` });
          // A mail relay that is down or missing must not stop the response: the chat notice went; the timeline says what did not.
          const mail = mailTo.length
            ? await a.mailIncidentNotice({ to: mailTo, subject: notice.subject, text: `Run ${run.state.runId}\n\n${notice.text}` }).then(
                () => undefined,
                (error: unknown) => describeError(error),
              )
            : undefined;
          return { channel: chat.channel, mailed: mailTo.length && mail === undefined ? mailTo : [], mailError: mail };
        },
        {
          summarize: (r) => {
            const how =
              `${r.channel}${r.mailed.length ? ` and e-mail to ${r.mailed.join(', ')}` : ''}` +
              `${r.mailError ? `; e-mail not sent: ${r.mailError}` : ''}`;
            record('notice', `${notice.subject} (to ${recipients.join(', ') || 'nobody'}, via ${how})`);
            return `${recipients.join(', ') || 'nobody'} told via ${how}`;
          },
        },
      );
    const fields = {
      severity: input.severity,
      services: input.affected.services.join(', '),
      locations: input.affected.locations.join(', '),
    };

    await notify('notify-start', {
      kind: 'escalation',
      subject: `${input.severity} incident open: ${input.title}`,
      text: `${input.title}\n${input.symptoms}\nAffected: ${fields.services} at ${fields.locations}.`,
      fields,
    });

    const first = await diagnose('diagnose', 'diagnosis', scope, []);
    incident.findings = first.findings.map((f) => f.text);
    for (const f of first.findings) record('finding', f.text, RUNBOOK, first.at);

    const logs = await run.step(
      'read-logs',
      (a) => a.readIncidentLogs({ sources: scope.logSources, since: logsSince(input.startedAt ?? run.state.requestedAt) }),
      {
        activity: ACTION,
        summarize: (l) =>
          l.length
            ? l.map((x) => `${x.source}: ${x.error ? `unreadable (${x.error})` : `${x.lines.length} line(s)`}`).join('; ')
            : 'no log source for these services',
      },
    );
    incident.logs = logs;
    for (const l of logs)
      record('log', `${l.source} on ${l.host}: ${l.error ? `unreadable (${l.error})` : `${l.lines.length} line(s) read`}`);

    await run.step(
      'conclude-isp-dns',
      async () => {
        incident.conclusions = first.conclusions;
        record('conclusion', first.conclusions.isp);
        record('conclusion', first.conclusions.dns);
        return first.conclusions;
      },
      { summarize: (c) => `${c.isp}; ${c.dns}` },
    );

    if (input.security) await contain(scope, input.security.isolate);

    const choices = choicesOf(scope);
    const chosen = await run.task<{ remediation: string; reason: string }>('choose-remediation', {
      title: `${input.severity} ${input.title}: choose the remediation`,
      instructions: [
        `**Findings** (${first.findings.length}):`,
        ...(first.findings.length ? first.findings.map((f) => `- ${f.text}`) : ['- none: the probes saw no fault']),
        `- ${first.conclusions.isp}`,
        `- ${first.conclusions.dns}`,
        '',
        '**Choose one** (give its id as `remediation`, and why as `reason`):',
        ...choices.map((c) => `- \`${c.id}\`: ${c.text}`),
        '',
        `Each support line has ${scope.policy.responseSeconds} s before it passes to the next.`,
      ].join('\n'),
      assignee: 'tier1',
      evidence: remediationForm(choices),
      slaMs: scope.policy.responseSeconds * 1000,
    });
    const task = run.state.tasks?.find((t) => t.id === 'choose-remediation');
    for (const e of task?.escalations ?? [])
      record('escalation', `the response SLA passed: escalated to ${e.contact} (tier ${e.tier}) and told`, RUNBOOK, e.at);
    const choice = choices.find((c) => c.id === chosen.remediation) as Choice;
    const chooser = task?.completedBy?.displayName ?? 'unknown';
    record('decision', `${choice.id} chosen: ${chosen.reason}`, task?.completedBy?.id ?? chooser);
    incident.remediation = { choice: choice.id, reason: chosen.reason, chosenBy: chooser, action: choice.text };

    const onStandby: string[] = [];
    if (choice.apply && choice.host && choice.undo) {
      await run.approval('approve-remediation', `${input.severity} ${input.title}: ${choice.text}`, {
        allowedRoles: ['tier2', 'tier3'],
        requiredApprovals: scope.policy.approvers,
        timeoutMs: scope.policy.approvalSeconds * 1000,
        escalation: [{ tier: 3, contact: 'tier3' }],
      });
      const gate = run.state.gates.find((g) => g.id === 'approve-remediation');
      for (const d of gate?.decisions ?? [])
        record('approval', `${d.decision} by ${d.displayName}${d.comment ? `: ${d.comment}` : ''}`, d.by, d.at);
      const { host, apply, undo } = choice;
      run.onUndo('remediate', `Undo ${choice.id} on ${host}`, (a) =>
        a
          .runIncidentAction({ host, command: undo, what: `undo ${choice.id}`, idempotencyKey: `${run.idempotencyKey}/undo`, undo: true })
          .then(() => record('action', `${choice.id} undone on ${host}`)),
      );
      await run.step(
        'remediate',
        (a) => a.runIncidentAction({ host, command: apply, what: choice.id, idempotencyKey: `${run.idempotencyKey}/remediate` }),
        {
          activity: ACTION,
          summarize: (r) => `${choice.text}: done on ${host}${r.output ? ` (${r.output})` : ''}`,
        },
      );
      record('action', `${choice.text}: applied on ${host}`);
      if (choice.standbyOf) onStandby.push(choice.standbyOf);
      await notify('notify-remediation', {
        kind: 'escalation',
        subject: `${input.severity} ${input.title}: ${choice.id} applied`,
        text: `${choice.text}, chosen by ${chooser} (${chosen.reason}). Verifying now.`,
        fields: { ...fields, remediation: choice.id },
      });
    }

    const after = await diagnose('verify', 'verification', scope, onStandby);
    incident.remaining = after.findings.map((f) => f.text);
    record(
      'verification',
      after.findings.length
        ? `${after.findings.length} finding(s) still stand: ${incident.remaining.join('; ')}`
        : 'no finding stands: resolved',
      RUNBOOK,
      after.at,
    );
    if (after.findings.length > 0) {
      throw ApplicationFailure.create({
        type: 'IncidentNotResolved',
        nonRetryable: true,
        message: `the verification still finds: ${incident.remaining.join('; ')}`,
      });
    }
    incident.resolvedAt = after.at;
    run.pointOfNoReturn();
    run.setOutcome({ resolved: true, remediation: choice.id, findingsBefore: incident.findings.length });
    await notify('notify-resolution', {
      kind: 'run-completed',
      subject: `${input.severity} resolved: ${input.title}`,
      text: `Resolved by ${choice.id} (${choice.text}); the verification finds no fault.`,
      fields: { ...fields, remediation: choice.id },
    });
  });

  /** Security incidents: isolate the suspected hosts once enough of the 2nd and 3rd line approve; undone if the run fails or is cancelled. */
  async function contain(scope: IncidentScope, names: readonly string[]): Promise<void> {
    const isolations = names.map((name) => {
      const found = scope.isolations.find((i) => i.name === name);
      if (!found)
        throw ApplicationFailure.create({
          type: 'UnknownIsolation',
          nonRetryable: true,
          message: `${name} is not an isolation of the incident catalogue`,
        });
      return found;
    });
    await run.approval('approve-containment', `${input.severity} ${input.title}: isolate ${names.join(', ')}`, {
      allowedRoles: ['tier2', 'tier3'],
      requiredApprovals: scope.policy.approvers,
      timeoutMs: scope.policy.approvalSeconds * 1000,
      escalation: [{ tier: 3, contact: 'tier3' }],
    });
    const gate = run.state.gates.find((g) => g.id === 'approve-containment');
    for (const d of gate?.decisions ?? [])
      record('approval', `containment: ${d.decision} by ${d.displayName}${d.comment ? `: ${d.comment}` : ''}`, d.by, d.at);
    incident.contained = [];
    await run.step(
      'contain',
      async (a) => {
        for (const iso of isolations) {
          run.onUndo('contain', `Lift the isolation of ${iso.name}`, (u) =>
            u
              .runIncidentAction({
                host: iso.host,
                command: iso.undo,
                what: `lift isolation of ${iso.name}`,
                idempotencyKey: `${run.idempotencyKey}/lift-${iso.name}`,
                undo: true,
              })
              .then(() => record('containment', `isolation of ${iso.name} lifted`)),
          );
          await a.runIncidentAction({
            host: iso.host,
            command: iso.apply,
            what: `isolate ${iso.name}`,
            idempotencyKey: `${run.idempotencyKey}/isolate-${iso.name}`,
          });
          const at = now();
          incident.contained?.push({ name: iso.name, at });
          record('containment', `${iso.name} isolated: ${iso.description}`, RUNBOOK, at);
        }
        return isolations.length;
      },
      { activity: ACTION, summarize: (n) => `${n} host(s) isolated: ${names.join(', ')}` },
    );
  }

  async function diagnose(step: 'diagnose' | 'verify', label: string, scope: IncidentScope, onStandby: string[]): Promise<Diagnosis> {
    const result = await run.step(step, (a: RunbookActivities) => a.diagnose({ plan: diagnosisPlanOf(scope, onStandby) }), {
      activity: DIAGNOSE,
      summarize: (d) =>
        `${d.results.length} probes (${d.results.filter((r) => r.status === 'hung').length} hung): ` +
        (d.findings.length ? d.findings.map((f) => f.text).join('; ') : 'no finding'),
      details: (d) => ({ findings: d.findings, conclusions: d.conclusions }),
    });
    incident.raw.push(...result.results.map((r) => ({ diagnosis: label, vantage: r.vantage, command: r.command, output: r.raw })));
    return result;
  }
}

/** From shortly before the start: what led up to it is in the logs too. */
function logsSince(startedAt: string): string {
  return new Date(new Date(startedAt).getTime() - 15 * 60_000).toISOString();
}

/** What the responder may choose: each affected service's failover, each rollback of the catalogue, or nothing. */
function choicesOf(scope: IncidentScope): Choice[] {
  const choices: Choice[] = [];
  for (const s of scope.services) {
    if (s.failover && s.standby) {
      choices.push({
        id: `failover:${s.name}`,
        text: `switch ${s.name} to its standby ${s.standby.address} (on ${s.failover.host})`,
        host: s.failover.host,
        apply: s.failover.apply,
        undo: s.failover.undo,
        standbyOf: s.name,
      });
    }
  }
  for (const r of scope.rollbacks)
    choices.push({ id: `rollback:${r.name}`, text: `${r.description} (on ${r.host})`, host: r.host, apply: r.apply, undo: r.undo });
  choices.push({ id: 'none', text: 'change nothing (no fault, or fixed outside this run); verify only' });
  return choices;
}

function remediationForm(choices: readonly Choice[]): JsonSchema {
  return {
    type: 'object',
    properties: {
      remediation: { type: 'string', enum: choices.map((c) => c.id), description: 'The remediation to apply' },
      reason: { type: 'string', minLength: 1, maxLength: 1000, description: 'Why this fixes what the findings say' },
    },
    required: ['remediation', 'reason'],
    additionalProperties: false,
  };
}
