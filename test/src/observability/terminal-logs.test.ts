import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../api/app';

const logger = path.join(repoRoot, 'activities', 'dist', 'observability', 'logger.js');

/** What a process writes when its stdout is a terminal: run under `script` (util-linux), which gives it a pseudo-terminal. */
function inTerminal(code: string): string {
  const command = `${JSON.stringify(process.execPath)} -e ${JSON.stringify(code)}`;
  return execFileSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
}

describe('the service logger on a terminal', () => {
  it('prints readable lines, not JSON, with the same fields and the same redaction', () => {
    const out = inTerminal(
      `require(${JSON.stringify(logger)}).createServiceLogger({ service: 'worker' })` +
        `.warn({ runId: 'restore-1', principal: 'tess', password: 'hunter2' }, 'staging restored')`,
    );
    // eslint-disable-next-line no-control-regex
    const text = out.replace(/\u001b\[[0-9;]*m/g, '').replace(/\r/g, '');
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: staging restored$/m);
    expect(text).toMatch(/^ {4}runId: "restore-1"$/m);
    expect(text).toMatch(/^ {4}principal: "tess"$/m);
    expect(text).toMatch(/^ {4}password: "\[REDACTED\]"$/m);
    expect(text).not.toContain('hunter2');
    expect(text.split('\n').some((line) => line.trim().startsWith('{'))).toBe(false);
  });
});
