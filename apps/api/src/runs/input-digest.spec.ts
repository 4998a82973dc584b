import { inputDigest as workflowInputDigest } from '@runbooks/contracts';
import { inputDigest } from './runs.service';

/**
 * The API binds a run's approvals to its input with node's sha256 (inputDigest here, on the launch
 * path); workflow code, which has no node:crypto, computes the same digest in plain TypeScript
 * (contracts' inputDigest, e.g. for a software-conflict run's fleet child). A gate refuses a decision
 * whose digest differs, so the two must agree on every input.
 */
describe('inputDigest', () => {
  const inputs: unknown[] = [
    {},
    { host: 'db-07', slot: 'bay 3', notify: ['dba-team'], slaSeconds: 3600 },
    { b: 1, a: { d: [3, 2, 1], c: null } },
    { name: 'Zoë Ødegård', note: '日本語のメモ 🚀', path: '/srv/data/über' },
    { lone: 'half a pair \ud800 here', other: '\udfff' },
    { nested: { deeper: { deepest: [{ x: 1.5 }, { y: -0 }, { z: 1e21 }] } } },
    { long: 'x'.repeat(10_000) },
  ];

  it.each(inputs.map((input, i) => [i, input]))('gives the workflow’s digest for input %i', (_i, input) => {
    expect(inputDigest(input)).toBe(workflowInputDigest(input));
  });

  it('is independent of key order and differs when a value differs', () => {
    expect(inputDigest({ a: 1, b: 2 })).toBe(inputDigest({ b: 2, a: 1 }));
    expect(inputDigest({ a: 1, b: 2 })).not.toBe(inputDigest({ a: 1, b: 3 }));
  });
});
