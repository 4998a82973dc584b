import { candidateFixes, softwareConflictInputSchema, type PackageChange } from './software-conflict';

const change = (c: Partial<PackageChange> & Pick<PackageChange, 'package'>): PackageChange => ({
  at: '2026-11-30T02:00:00.000Z',
  action: 'upgrade',
  from: '1.0-1',
  to: '2.0-1',
  ...c,
});

describe('candidateFixes', () => {
  test('for an upgrade: the newer candidate first, then the version before it, held', () => {
    const fixes = candidateFixes({
      installed: { lib: '2.0-1' },
      candidates: { lib: '3.0-1' },
      changes: [change({ package: 'lib' })],
    });
    expect(fixes).toEqual([
      { action: 'update', package: 'lib', version: '3.0-1' },
      { action: 'rollback', package: 'lib', version: '1.0-1', hold: true },
    ]);
  });

  test('newest change first; a package installed in the window may be removed; a package changed again since is left out', () => {
    const fixes = candidateFixes({
      installed: { old: '5', agent: '1.2', moved: '9' },
      candidates: { agent: '1.2' },
      changes: [
        change({ package: 'moved', from: '7', to: '8' }), // now at 9: not this change's doing
        change({ package: 'old', from: '4', to: '5' }),
        change({ package: 'agent', action: 'install', from: null, to: '1.2' }),
      ],
    });
    expect(fixes).toEqual([
      { action: 'remove', package: 'agent' },
      { action: 'rollback', package: 'old', version: '4', hold: true },
    ]);
  });

  test('no change in the window, no candidate', () => {
    expect(candidateFixes({ installed: { a: '1' }, candidates: { a: '2' }, changes: [] })).toEqual([]);
  });
});

describe('softwareConflictInputSchema', () => {
  const valid = {
    host: 'desk-01',
    reportedAt: '2026-11-30T09:00:00Z',
    symptom: 'the greeter fails',
    reproduce: '"$RUNBOOK_ROOT/usr/bin/rb-greeter"',
    packages: ['rb-greeter'],
  };

  test('fills the defaults', () => {
    expect(softwareConflictInputSchema.parse(valid)).toMatchObject({ lookbackHours: 72, approval: { timeoutSeconds: 3600 } });
  });

  test.each([
    ['packages', { packages: [] }],
    ['packages.0', { packages: ['Not A Package'] }],
    ['reportedAt', { reportedAt: 'yesterday' }],
    ['reproduce', { reproduce: 'a\nb' }],
    ['', { colour: 'red' }],
  ])('refuses a bad %s', (field, change) => {
    const result = softwareConflictInputSchema.safeParse({ ...valid, ...change });
    expect(result.success).toBe(false);
    if (field) expect(result.error?.issues.map((i) => i.path.join('.'))).toContain(field);
  });
});
