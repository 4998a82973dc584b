import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Where the histories of released runbook versions live; the replay test runs every one. */
export const HISTORIES_DIR = path.resolve(__dirname, '..', '..', 'fixtures', 'histories');
const repoRoot = path.resolve(__dirname, '..', '..', '..');

/**
 * With RUNBOOKS_RECORD_HISTORIES=1, saves a finished run's history as a replay fixture, so a
 * later change to the runbook must replay it (or guard itself with patched()).
 */
export async function recordHistoryIfAsked(handle: WorkflowHandle, name: string): Promise<void> {
  if (!process.env.RUNBOOKS_RECORD_HISTORIES) return;
  await fs.mkdir(HISTORIES_DIR, { recursive: true });
  const history = await handle.fetchHistory();
  neutralisePaths(history);
  await fs.writeFile(path.join(HISTORIES_DIR, `${name}.json`), historyToJSON(history));
}

/**
 * Fixtures must not name this machine: the tests' temp folders become /srv/fixture/<kind>, and
 * stack traces (which name the checkout) are dropped. Replay compares commands, not payloads, so
 * a consistent rewrite keeps the history replayable.
 */
function neutralisePaths(history: temporal.api.history.v1.IHistory): void {
  const tmp = new RegExp(`${escape(os.tmpdir())}/([a-z]+(?:-[a-z]+)*)-[A-Za-z0-9]{6}(?![A-Za-z0-9])`, 'g');
  const rewrite = (text: string) => text.replace(tmp, '/srv/fixture/$1').split(`${repoRoot}/`).join('');
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    for (const [key, value] of Object.entries(record)) {
      if (key === 'stackTrace' && typeof value === 'string') record[key] = '';
      else if (value instanceof Uint8Array) record[key] = Buffer.from(rewrite(Buffer.from(value).toString('utf8')), 'utf8');
      else if (typeof value === 'string') record[key] = rewrite(value);
      else walk(value);
    }
  };
  walk(history);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
