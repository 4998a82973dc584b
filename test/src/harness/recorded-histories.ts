import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { ENCRYPTED_ENCODING } from '@runbooks/activities';
import { testPayloadCodec } from './worker';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Where the histories of released runbook versions live; the replay test runs every one. */
export const HISTORIES_DIR = path.resolve(__dirname, '..', '..', 'fixtures', 'histories');
/**
 * Fixture name -> the workflow id it ran under, for histories whose commands name their own id
 * (a fleet run's children are `<run>/wave-<n>/batch-<k>`): replay must use the same id.
 */
export const WORKFLOW_IDS_FILE = path.join(HISTORIES_DIR, 'workflow-ids.json');

export async function recordedWorkflowIds(): Promise<Record<string, string>> {
  const text = await fs.readFile(WORKFLOW_IDS_FILE, 'utf8').catch(() => '{}');
  return JSON.parse(text) as Record<string, string>;
}
const repoRoot = path.resolve(__dirname, '..', '..', '..');

/**
 * With RUNBOOKS_RECORD_HISTORIES=1, saves a finished run's history as a replay fixture, so a
 * later change to the runbook must replay it (or guard itself with patched()).
 */
export async function recordHistoryIfAsked(handle: WorkflowHandle, name: string): Promise<void> {
  if (!process.env.RUNBOOKS_RECORD_HISTORIES) return;
  await fs.mkdir(HISTORIES_DIR, { recursive: true });
  await save(await handle.fetchHistory(), name);
}

/**
 * With RUNBOOKS_RECORD_HISTORIES=1, saves every run of a workflow that continued as new
 * (`<name>-run-<n>`) and the first child of each workflow type it started (`<name>-<type>`), so
 * carried state and batch children replay too.
 */
export async function recordRunChainIfAsked(client: Client, handle: WorkflowHandle, name: string): Promise<void> {
  if (!process.env.RUNBOOKS_RECORD_HISTORIES) return;
  await fs.mkdir(HISTORIES_DIR, { recursive: true });
  const childTypes = new Set<string>();
  let runId: string | undefined = (await handle.describe()).raw.workflowExecutionInfo?.firstRunId || undefined;
  if (!runId) throw new Error(`the server did not say which run started ${handle.workflowId}`);
  for (let n = 1; runId; n++) {
    const history = await client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
    runId = undefined;
    for (const event of history.events ?? []) {
      runId ??= event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
      const child = event.childWorkflowExecutionStartedEventAttributes;
      const type = child?.workflowType?.name;
      if (!child?.workflowExecution?.workflowId || !type || childTypes.has(type)) continue;
      childTypes.add(type);
      const childHistory = await client.workflow
        .getHandle(child.workflowExecution.workflowId, child.workflowExecution.runId ?? undefined)
        .fetchHistory();
      await save(childHistory, `${name}-${type}`, child.workflowExecution.workflowId);
    }
    await save(history, `${name}-run-${n}`, handle.workflowId);
  }
}

async function save(history: temporal.api.history.v1.IHistory, name: string, workflowId?: string): Promise<void> {
  await neutralisePaths(history);
  await fs.writeFile(path.join(HISTORIES_DIR, `${name}.json`), historyToJSON(history));
  if (!workflowId) return;
  const ids = await recordedWorkflowIds();
  ids[name] = workflowId;
  await fs.writeFile(WORKFLOW_IDS_FILE, `${JSON.stringify(ids, Object.keys(ids).sort(), 2)}\n`);
}

/**
 * Fixtures must not name this machine: the tests' temp folders become /srv/fixture/<kind>, and
 * stack traces (which name the checkout) are dropped. Replay compares commands, not payloads, so
 * a consistent rewrite keeps the history replayable. Encrypted payloads are decrypted, rewritten
 * and encrypted again with the tests' key (rewriting their ciphertext as text would corrupt it).
 */
async function neutralisePaths(history: temporal.api.history.v1.IHistory): Promise<void> {
  const codec = testPayloadCodec();
  const encrypted: Payload[] = [];
  const tmp = new RegExp(`${escape(os.tmpdir())}/([a-z]+(?:-[a-z]+)*)-[A-Za-z0-9]{6}(?![A-Za-z0-9])`, 'g');
  const rewrite = (text: string) => text.replace(tmp, '/srv/fixture/$1').split(`${repoRoot}/`).join('');
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (isEncrypted(record)) {
      encrypted.push(record as Payload);
      return;
    }
    for (const [key, value] of Object.entries(record)) {
      if (key === 'stackTrace' && typeof value === 'string') record[key] = '';
      else if (value instanceof Uint8Array) record[key] = Buffer.from(rewrite(Buffer.from(value).toString('utf8')), 'utf8');
      else if (typeof value === 'string') record[key] = rewrite(value);
      else walk(value);
    }
  };
  walk(history);
  for (const payload of encrypted) {
    const plain = codec.decodeOne(payload);
    walk(plain);
    const [again] = await codec.encode([plain]);
    Object.assign(payload, again);
  }
}

function isEncrypted(record: Record<string, unknown>): boolean {
  const encoding = (record.metadata as Record<string, unknown> | undefined)?.encoding;
  return encoding instanceof Uint8Array && Buffer.from(encoding).toString('utf8') === ENCRYPTED_ENCODING;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
