import path from 'node:path';
import request from 'supertest';
import { ResticFixture, writeTree } from '../../../apps/worker/src/demo/restic-fixture';
import { eventually } from '../harness/worker';
import { auth } from './app';
import { startRestoreEnvironment, type RestoreEnvironment } from './restore-environment';

/**
 * Issue 10: a technician who can make a restic repository with a guessed password must not learn
 * from an unapproved run whether the guess is right. Before the approval a restore checks only
 * what needs no password; after it, a wrong password fails the run in generic words.
 */
let env: RestoreEnvironment;
/** A repository like the environment's, made with a password that is not the secret's (a wrong guess). */
let guessed: string;

beforeAll(async () => {
  env = await startRestoreEnvironment();
  const fixture = await ResticFixture.init(path.join(path.dirname(env.targetsRoot), 'guessed-repo'), 'a-wrong-guess-0000');
  await writeTree(env.source, { 'report.txt': 'quarterly report\n' });
  await fixture.backup(env.source, new Date('2026-11-01T10:00:00Z'));
  guessed = fixture.repository;
  env.secrets.allowRepository('backup/api-test', guessed);
  await request(env.api.server)
    .put('/v1/policy/restore-targets')
    .set(auth('ada'))
    .send({ rules: [env.repository, guessed].map((repository) => ({ repository, roots: [env.targetsRoot] })) })
    .expect(200);
});
afterAll(() => env?.stop());

const server = () => env.api.server;
const ended = (status: string) => ['succeeded', 'succeeded_with_warnings', 'failed', 'rejected', 'cancelled'].includes(status);

async function launch(repositoryUrl: string): Promise<string> {
  const input = await env.input();
  const res = await request(server())
    .post('/v1/runs')
    .set(auth('tess'))
    .send({
      runbook: 'data-restore',
      input: { ...input, before: '2026-11-20T00:00:00Z', repository: { ...(input.repository as object), url: repositoryUrl } },
    })
    .expect(201);
  return res.body.runId;
}

async function statusOnce(runId: string, wanted: (status: string) => boolean) {
  return eventually(
    async () => {
      const res = await request(server()).get(`/v1/runs/${runId}`).set(auth('tess'));
      return res.status === 200 && wanted(res.body.status) ? res.body : undefined;
    },
    90_000,
    `${runId} to reach the wanted status`,
  );
}

/** What the requester sees of a run, with what differs by construction (ids, folders) left out. */
function requesterView(run: { status: string; steps: { id: string; state: string; summary?: string }[]; gates: { title: string }[] }) {
  const blind = (text = '') =>
    text
      .split(guessed)
      .join('<repo>')
      .split(env.repository)
      .join('<repo>')
      .replace(/targets\/\d+\//g, 'targets/N/');
  return {
    status: run.status,
    steps: run.steps.map((s) => ({ id: s.id, state: s.state, summary: blind(s.summary) })),
    gates: run.gates.map((g) => blind(g.title)),
  };
}

describe('a restore whose repository password is a guess', () => {
  it('waits for approval exactly like one whose password is right, then fails only as "could not open the repository"', async () => {
    const [right, wrong] = [await launch(env.repository), await launch(guessed)];
    const [rightRun, wrongRun] = await Promise.all([right, wrong].map((id) => statusOnce(id, (s) => s === 'awaiting_approval')));

    // Nothing the requester can read before the approval depends on the password.
    expect(requesterView(wrongRun)).toEqual(requesterView(rightRun));
    expect(wrongRun.steps.find((s: { id: string }) => s.id === 'check-repository')).toMatchObject({ state: 'succeeded' });
    expect(wrongRun.steps.find((s: { id: string }) => s.id === 'open-repository')).toMatchObject({ state: 'pending' });

    for (const runId of [right, wrong]) {
      await request(server())
        .post(`/v1/runs/${runId}/approvals/approve-restore`)
        .set(auth('alex'))
        .send({ decision: 'approve', comment: 'approved for INC-2048' })
        .expect(200);
    }
    expect((await statusOnce(right, ended)).status).toBe('succeeded');
    const failed = await statusOnce(wrong, ended);
    expect(failed.status).toBe('failed');
    const opened = failed.steps.find((s: { id: string }) => s.id === 'open-repository');
    expect(opened).toMatchObject({ state: 'failed', error: `could not open the repository at ${guessed}` });
    expect(failed.error).toContain(`could not open the repository at ${guessed}`);

    const report = await request(server()).get(`/v1/runs/${wrong}/report`).set(auth('tess')).expect(200);
    expect(report.text).toContain('could not open the repository');
    // restic's own words ("wrong password or no key found") reach neither the status nor the report.
    expect(`${report.text}\n${JSON.stringify(failed)}`).not.toMatch(/wrong password|refused the password|no key/i);
  });
});
