import { Writable } from 'node:stream';
import { LoggerWithComposedMetadata } from '@temporalio/common';
import { TemporalLogAdapter, createServiceLogger, logActivityStarted } from './logger';

function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe('the service logger', () => {
  it('writes one JSON line with the run id, runbook, step and principal, and censors secret fields by its redaction paths', () => {
    const { lines, stream } = capture();
    const logger = createServiceLogger({ service: 'api', destination: stream });
    logger.info(
      {
        runId: 'restore-1',
        runbook: 'data-restore',
        step: 'restoreToStaging',
        principal: 'alex',
        password: 'hunter2',
        headers: { authorization: 'Bearer abc' },
        error: { details: { apiKey: 'sk-live-123' } },
      },
      'staging restored',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      service: 'api',
      msg: 'staging restored',
      runId: 'restore-1',
      runbook: 'data-restore',
      step: 'restoreToStaging',
      principal: 'alex',
      password: '[REDACTED]',
      headers: { authorization: '[REDACTED]' },
      error: { details: { apiKey: '[REDACTED]' } },
    });
    expect(JSON.stringify(lines[0])).not.toContain('hunter2');
    expect(JSON.stringify(lines[0])).not.toContain('sk-live-123');
    expect(JSON.stringify(lines[0])).not.toContain('Bearer abc');
  });

  it('carries the Temporal SDK’s activity log fields as runId, runbook and step, through the same redaction', () => {
    const { lines, stream } = capture();
    const adapter = new TemporalLogAdapter(createServiceLogger({ service: 'worker', destination: stream }), (t) =>
      t === 'dataRestore' ? 'data-restore' : t,
    );
    adapter.warn('activity failed', {
      workflowId: 'restore-2',
      runId: '0193-exec',
      workflowType: 'dataRestore',
      activityType: 'swapIntoTarget',
      token: 's3cret',
    });
    expect(lines[0]).toMatchObject({
      level: 'warn',
      service: 'worker',
      msg: 'activity failed',
      runId: 'restore-2',
      temporalRunId: '0193-exec',
      runbook: 'data-restore',
      step: 'swapIntoTarget',
      token: '[REDACTED]',
    });
  });

  it('keeps the runbook a line names itself (a fleet batch names its campaign’s) over the catalog name of its workflow type', () => {
    const { lines, stream } = capture();
    const adapter = new TemporalLogAdapter(createServiceLogger({ service: 'worker', destination: stream }), (t) => t);
    adapter.warn('Activity failed', {
      workflowId: 'security-patching-1/wave-1/batch-1',
      workflowType: 'patchBatch',
      activityType: 'patchHost',
      runbook: 'security-patching',
      principal: 'tess',
    });
    expect(lines[0]).toMatchObject({ runbook: 'security-patching', workflowType: 'patchBatch', step: 'patchHost', principal: 'tess' });
  });

  it('leaves out the SDK’s own "Activity started" (logged before the run’s context is read) and writes the one logged once it is, without its marker', () => {
    const { lines, stream } = capture();
    const adapter = new TemporalLogAdapter(createServiceLogger({ service: 'worker', level: 'debug', destination: stream }), (t) => t);
    const task = { workflowId: 'data-restore-1', workflowType: 'dataRestore', activityType: 'verifyBackup', activityId: '3', attempt: 1 };
    adapter.debug('Activity started', { sdkComponent: 'worker', ...task });
    // As the activity's context logger would: the worker's fields, then the run's context, then the activity component.
    const contextLogger = LoggerWithComposedMetadata.compose(
      LoggerWithComposedMetadata.compose(adapter, { ...task, principal: 'tess', runbook: 'data-restore' }),
      { sdkComponent: 'activity' },
    );
    logActivityStarted(contextLogger);
    adapter.debug('Activity started', { sdkComponent: 'activity', ...task });
    expect(lines.map((l) => [l.msg, l.sdkComponent, l.principal])).toEqual([
      ['Activity started', 'worker', 'tess'],
      // An activity's own line of that text is its own, and kept.
      ['Activity started', 'activity', undefined],
    ]);
    expect(lines[0]).not.toHaveProperty('runContextRead');
    expect(lines[0]).toMatchObject({ runId: 'data-restore-1', step: 'verifyBackup', runbook: 'data-restore', level: 'debug' });
  });
});
