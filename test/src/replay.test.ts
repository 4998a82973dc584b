import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import fs from 'node:fs';
import path from 'node:path';
import { HISTORIES_DIR } from './harness/recorded-histories';
import { installQuietRuntime, testPayloadCodec } from './harness/worker';

/**
 * Determinism guard: every recorded history of a released runbook replays against today's
 * workflow code. A change that alters the commands of a running workflow fails here; guard it
 * with patched() instead.
 */
const files = fs.existsSync(HISTORIES_DIR) ? fs.readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json')) : [];

describe('recorded runbook histories replay against the current workflow code', () => {
  test('there are recorded histories to replay', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  test.each(files)('%s replays without nondeterminism', async (file) => {
    installQuietRuntime();
    const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, file), 'utf8')));
    await Worker.runReplayHistory(
      // Histories recorded since payloads are encrypted need the key; older ones pass through it.
      {
        workflowBundle: { codePath: process.env.RUNBOOKS_WORKFLOW_BUNDLE as string },
        dataConverter: { payloadCodecs: [testPayloadCodec()] },
      },
      history,
      path.basename(file, '.json'),
    );
  });
});
