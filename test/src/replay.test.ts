import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import fs from 'node:fs';
import path from 'node:path';
import { HISTORIES_DIR, WORKFLOW_IDS_FILE, recordedWorkflowIds } from './harness/recorded-histories';
import { installQuietRuntime, testPayloadCodec } from './harness/worker';
import { workerSinks } from '@runbooks/worker';

/**
 * Determinism guard: every recorded history of a released runbook replays against today's
 * workflow code. A change that alters the commands of a running workflow fails here; guard it
 * with patched() instead.
 */
const files = fs.existsSync(HISTORIES_DIR)
  ? fs.readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json') && f !== path.basename(WORKFLOW_IDS_FILE))
  : [];

describe('recorded runbook histories replay against the current workflow code', () => {
  test('there are recorded histories to replay', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  test('security patching is recorded with its batch children and across continue-as-new', () => {
    for (const name of ['waves-run-1', 'waves-patchBatch', 'threshold-rollback-rollbackBatch', 'continued-as-new-run-2']) {
      expect(files).toContain(`security-patching-${name}.json`);
    }
  });

  test.each(files)('%s replays without nondeterminism', async (file) => {
    await replay(file);
  });

  test('a history whose commands the code no longer issues fails the replay', async () => {
    // As if the batch now patched before it snapshotted: the first scheduled activity changes type.
    await expect(
      replay('security-patching-waves-patchBatch.json', (history) => {
        const first = history.events?.find((e) => e.activityTaskScheduledEventAttributes)?.activityTaskScheduledEventAttributes;
        expect(first?.activityType?.name).toBe('snapshotHost');
        (first as { activityType: { name: string } }).activityType.name = 'patchHost';
      }),
    ).rejects.toThrow(DeterminismViolationError);
  });
});

async function replay(file: string, change?: (history: temporal.api.history.v1.IHistory) => void): Promise<void> {
  installQuietRuntime();
  const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, file), 'utf8')));
  change?.(history);
  const name = path.basename(file, '.json');
  await Worker.runReplayHistory(
    // Histories recorded since payloads are encrypted need the key; older ones pass through it.
    {
      workflowBundle: { codePath: process.env.RUNBOOKS_WORKFLOW_BUNDLE as string },
      dataConverter: { payloadCodecs: [testPayloadCodec()] },
      sinks: workerSinks({}), // the bundled workflows' sinks (never called on replay, but looked up)
    },
    history,
    (await recordedWorkflowIds())[name] ?? name,
  );
}
