import { WorkflowFailedError } from '@temporalio/client';
import { AwaitingApprovalAttr, type GateRecord, type RunState } from '@runbooks/contracts';
import request from 'supertest';
import { DECISION_UPSERTS_ONCE_PATCH } from '../../../workflows/src/engine/approvals';
import { historyText } from '../harness/history';
import { recordHistoryIfAsked } from '../harness/recorded-histories';
import { eventually } from '../harness/worker';
import { auth } from './app';
import { startRestoreEnvironment, type RestoreEnvironment } from './restore-environment';

let env: RestoreEnvironment;

beforeAll(async () => {
  env = await startRestoreEnvironment();
});
afterAll(async () => {
  await env?.stop();
});

const server = () => env.api.server;

function decide(runId: string, who: Parameters<typeof auth>[0], body: Record<string, unknown>, gateId = 'approve-restore') {
  return request(server()).post(`/v1/runs/${runId}/approvals/${gateId}`).set(auth(who)).send(body);
}

async function pendingFor(who: Parameters<typeof auth>[0]): Promise<{ runId: string; gateId: string }[]> {
  const res = await request(server()).get('/v1/approvals?status=pending').set(auth(who)).expect(200);
  return res.body.approvals;
}

describe('approval decisions through the API', () => {
  it('refuses a self-approval with 403: blair (approver and technician) requested the run', async () => {
    const runId = await env.launchToApproval('blair');
    const res = await decide(runId, 'blair', { decision: 'approve', comment: 'looks fine to me' }).expect(403);
    expect(res.body).toMatchObject({ statusCode: 403, error: 'Forbidden', message: expect.stringMatching(/you requested this run/) });
    // Refused by the validator: nothing entered the run.
    const state = await request(server()).get(`/v1/runs/${runId}`).set(auth('blair')).expect(200);
    expect(state.body.gates[0]).toMatchObject({ id: 'approve-restore', state: 'pending', decisions: [] });
  });

  it('lists a pending gate for those who may decide it, not for the requester, a technician or a scheduler', async () => {
    const runId = await env.launchToApproval('tess');
    const listed = await eventually(
      async () => (await pendingFor('alex')).find((a) => a.runId === runId),
      10_000,
      'the gate to show in /v1/approvals',
    );
    expect(listed).toMatchObject({
      runId,
      runbook: 'data-restore',
      gateId: 'approve-restore',
      title: expect.stringMatching(/^Restore /),
      requestedBy: { id: 'tess', displayName: 'Tess Technician' },
      allowedRoles: ['approver'],
      requiredApprovals: 1,
      decisions: [],
    });
    expect(Date.parse((listed as unknown as { deadline: string }).deadline)).toBeGreaterThan(Date.now());
    expect((await pendingFor('ada')).map((a) => a.runId)).toContain(runId);
    expect((await pendingFor('blair')).map((a) => a.runId)).toContain(runId);
    for (const who of ['tess', 'sam'] as const) expect((await pendingFor(who)).map((a) => a.runId)).not.toContain(runId);
  });

  it('refuses with 409 a decision made for another input than the run has, and takes one made for its own', async () => {
    const runId = await env.launchToApproval('tess');
    const listed = await eventually(async () => (await pendingFor('alex')).find((a) => a.runId === runId), 10_000, 'the gate listed');
    const seen = (listed as unknown as { inputSha256: string }).inputSha256;
    expect(seen).toMatch(/^[0-9a-f]{64}$/); // launch passed the input hash on to the gate
    const other = seen.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    const refused = await decide(runId, 'alex', { decision: 'approve', inputSha256: other }).expect(409);
    expect(refused.body.message).toMatch(/this decision was made for input .*review the run again/);
    await decide(runId, 'alex', { decision: 'approve', inputSha256: 'not-a-hash' }).expect(400);
    const gate = await decide(runId, 'alex', { decision: 'approve', comment: 'input reviewed', inputSha256: seen }).expect(200);
    expect(gate.body).toMatchObject({ state: 'approved', inputSha256: seen });
  });

  it('records an approver’s approval (200 with the gate), runs the restore to the end and reports it', async () => {
    const runId = await env.launchToApproval('tess');
    const res = await decide(runId, 'alex', { decision: 'approve', comment: 'ticket INC-2048 checked' }).expect(200);
    const gate = res.body as GateRecord;
    expect(gate).toMatchObject({ id: 'approve-restore', state: 'approved' });
    expect(gate.decisions).toEqual([
      { by: 'alex', displayName: 'Alex Approver', decision: 'approve', comment: 'ticket INC-2048 checked', at: expect.any(String) },
    ]);
    expect((await pendingFor('ada')).map((a) => a.runId)).not.toContain(runId);

    // The history names the approver as the caller of the update.
    const history = await env.temporal.client.workflow.getHandle(runId).fetchHistory();
    const accepted = history.events!.find((e) => e.workflowExecutionUpdateAcceptedEventAttributes)!;
    expect(accepted.workflowExecutionUpdateAcceptedEventAttributes!.acceptedRequest!.meta!.identity).toBe('api:alex');

    const finished = await eventually(
      async () => {
        const state = await request(server()).get(`/v1/runs/${runId}`).set(auth('sam')).expect(200);
        return state.body.temporalStatus === 'COMPLETED' ? (state.body as RunState & { temporalStatus: string }) : undefined;
      },
      60_000,
      'the run to complete',
    );
    expect(finished.status).toBe('succeeded');

    const markdown = await request(server()).get(`/v1/runs/${runId}/report`).set(auth('sam')).expect(200);
    expect(markdown.headers['content-type']).toMatch(/^text\/markdown/);
    expect(markdown.text).toContain(`# Data restore: ${runId}`);
    expect(markdown.text).toContain('**approve** by Alex Approver (alex)');
    const json = await request(server()).get(`/v1/runs/${runId}/report`).set(auth('sam')).set('Accept', 'application/json').expect(200);
    expect(json.body.report).toMatchObject({ runId, status: 'succeeded' });
    expect(json.body.markdown).toBe(markdown.text);
    const plain = await request(server()).get(`/v1/runs/${runId}/report`).set(auth('sam')).set('Accept', 'text/plain').expect(200);
    expect(plain.headers['content-type']).toMatch(/^text\/plain/);
    await request(server()).get(`/v1/runs/${runId}/report`).set(auth('sam')).set('Accept', 'image/png').expect(406);
  });

  it('records a closing decision with one search-attribute upsert in its task, the patch marker when the gate opened', async () => {
    const runId = await env.launchToApproval('tess');
    await decide(runId, 'alex', { decision: 'approve', comment: 'one upsert' }).expect(200);
    // The approver reads what he did: the store's copy was written before the decision was answered.
    const copy = await request(server()).get(`/v1/runs/${runId}`).set(auth('tess')).expect(200);
    expect(copy.body.gates[0]).toMatchObject({ id: 'approve-restore', state: 'approved' });

    const handle = env.temporal.client.workflow.getHandle(runId);
    await handle.result();
    await recordHistoryIfAsked(handle, 'data-restore-decision-upserts-once');
    const events = (await handle.fetchHistory()).events ?? [];
    const accepted = events.findIndex((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    const nextTask = events.findIndex((e, i) => i > accepted && e.workflowTaskScheduledEventAttributes);
    const decisionTask = events.slice(accepted, nextTask < 0 ? undefined : nextTask);
    expect(decisionTask.filter((e) => e.workflowExecutionUpdateCompletedEventAttributes)).toHaveLength(1);
    // Runs recorded before the patch upserted the same values twice here (replay.test.ts replays them).
    const upserts = decisionTask.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes);
    expect(upserts).toHaveLength(1);
    const awaiting = upserts[0].upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[AwaitingApprovalAttr.name];
    expect(Buffer.from(awaiting?.data ?? []).toString('utf8')).toBe('false');
    const marker = events.findIndex(
      (e) => e.markerRecordedEventAttributes && historyText({ events: [e] }).includes(DECISION_UPSERTS_ONCE_PATCH),
    );
    expect(marker).toBeGreaterThan(0);
    expect(marker).toBeLessThan(accepted);
  });

  it('answers 409 to a decision on a gate that is already decided', async () => {
    const runId = await env.launchToApproval('tess');
    await decide(runId, 'alex', { decision: 'reject', comment: 'wrong snapshot' }).expect(200);
    const res = await decide(runId, 'ada', { decision: 'approve' }).expect(409);
    // The run may have ended already (it only writes its report after a rejection): either way a conflict that says why.
    expect(res.body).toMatchObject({
      statusCode: 409,
      error: 'Conflict',
      message: expect.stringMatching(/approval gate approve-restore is rejected, not pending|has already ended \(failed\)/),
    });
    // The rejection ends the run as rejected.
    await expect(env.temporal.client.workflow.getHandle(runId).result()).rejects.toBeInstanceOf(WorkflowFailedError);
    const state = await request(server()).get(`/v1/runs/${runId}`).set(auth('tess')).expect(200);
    expect(state.body.status).toBe('rejected');
    // And once the run has closed, a decision is still a conflict, never a 404 or 500.
    await decide(runId, 'blair', { decision: 'approve' }).expect(409);
  });

  it('answers 404 for a gate the run does not have and for a run that does not exist', async () => {
    const runId = await env.launchToApproval('tess');
    const gate = await decide(runId, 'alex', { decision: 'approve' }, 'no-such-gate').expect(404);
    expect(gate.body.message).toContain('no-such-gate');
    await decide('data-restore-never-launched', 'alex', { decision: 'approve' }).expect(404);
    await env.temporal.client.workflow.getHandle(runId).terminate('test done');
  });
});
