import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { WorkflowHandle } from '@temporalio/client';
import fs from 'node:fs/promises';
import path from 'node:path';

/** Where the histories of released runbook versions live; the replay test runs every one. */
export const HISTORIES_DIR = path.resolve(__dirname, '..', '..', 'fixtures', 'histories');

/**
 * With RUNBOOKS_RECORD_HISTORIES=1, saves a finished run's history as a replay fixture, so a
 * later change to the runbook must replay it (or guard itself with patched()).
 */
export async function recordHistoryIfAsked(handle: WorkflowHandle, name: string): Promise<void> {
  if (!process.env.RUNBOOKS_RECORD_HISTORIES) return;
  await fs.mkdir(HISTORIES_DIR, { recursive: true });
  await fs.writeFile(path.join(HISTORIES_DIR, `${name}.json`), historyToJSON(await handle.fetchHistory()));
}
