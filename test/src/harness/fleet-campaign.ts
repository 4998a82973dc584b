import type { Client, WorkflowHandle } from '@temporalio/client';
import { decideApprovalUpdate, hostRecordOf, runStateQuery, type HostRecord, type Principal, type RunState } from '@runbooks/contracts';
import type { Store } from '@runbooks/store';
import { createLabFleet, type LabFleetFixture } from '../../../apps/worker/src/demo/lab-fixture';
import { eventually, startTestWorker, testClient, type TestWorker } from './worker';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Who launches, approves and steers fleet campaigns in the tests. */
export const requester = { id: 'tess', displayName: 'Tess Technician' };
export const approver: Principal = { id: 'alex', displayName: 'Alex Approver', roles: ['approver'] };
export const operator: Principal = { id: 'terry', displayName: 'Terry Technician', roles: ['technician'] };

/** Polls the run's status query until `test` holds. */
export async function whenState(
  handle: WorkflowHandle,
  what: string,
  test: (s: RunState) => boolean,
  timeoutMs = 60_000,
): Promise<RunState> {
  return eventually(
    async () => {
      const state = await handle.query(runStateQuery);
      return test(state) ? state : undefined;
    },
    timeoutMs,
    what,
  );
}

/** Every host's record of a fleet run, from the store its batches write them to (the run's state keeps counts only). */
export async function hostRecords(store: Store, runId: string): Promise<HostRecord[]> {
  return (await store.runHosts.all(runId)).map(hostRecordOf);
}

/** The run's state with every host's record in rollout.hosts (as the report shows it). */
export async function withHostRecords(state: RunState, store: Store): Promise<RunState> {
  return state.rollout ? { ...state, rollout: { ...state.rollout, hosts: await hostRecords(store, state.runId) } } : state;
}

/** Hosts the procedure finished on in the production waves (wave 1 on), from the run's counts. */
export function productionDone(state: RunState): number {
  return (state.rollout?.waves ?? []).filter((w) => w.index > 0).reduce((n, w) => n + (w.counts ? w.counts.patched : 0), 0);
}

export const gatePending = (s: RunState) => s.gates.some((g) => g.id === 'approve-production' && g.state === 'pending');

/** Waits for the production gate, then approves it. */
export async function approveProduction(handle: WorkflowHandle, principal: Principal = approver): Promise<void> {
  await whenState(handle, 'production gate pending', gatePending);
  await handle.executeUpdate(decideApprovalUpdate, {
    args: [{ gateId: 'approve-production', decision: 'approve', comment: 'canary clean', principal }],
  });
}

export interface LabFleets {
  readonly client: Client;
  /** A fresh lab fleet with `packages` on every host, and a worker acting on it: ledgers never mix. */
  labWithWorker(canary: number, production: number): Promise<{ lab: LabFleetFixture; worker: TestWorker }>;
}

/** For one test file: a client on the run's dev server and a temp folder for its lab fleets, both cleaned up after. */
export function useLabFleets(prefix: string, packages: Record<string, string>): LabFleets {
  let root = '';
  const fleets = {
    client: undefined as unknown as Client,
    async labWithWorker(canary: number, production: number) {
      const lab = await createLabFleet({ dir: path.join(root, randomUUID()), canary, production, packages });
      return { lab, worker: await startTestWorker({ hosts: lab, store: lab.store }) };
    },
  };
  let close = async () => undefined as void;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
    const { client, connection } = await testClient();
    fleets.client = client;
    close = () => connection.close();
  });
  afterAll(async () => {
    await close();
    await fs.rm(root, { recursive: true, force: true });
  });
  return fleets;
}
