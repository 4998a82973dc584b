import {
  candidateFixes,
  conflictReproductionCatalogSchema,
  reproductionHostRefusal,
  softwareConflictInputSchema,
  type PackageChange,
} from './software-conflict';

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
    reproduction: 'greeter-greets',
    packages: ['rb-greeter'],
  };

  test('fills the defaults', () => {
    expect(softwareConflictInputSchema.parse(valid)).toMatchObject({ lookbackHours: 72, approval: { timeoutSeconds: 3600 } });
  });

  test.each([
    ['packages', { packages: [] }],
    ['packages.0', { packages: ['Not A Package'] }],
    ['reportedAt', { reportedAt: 'yesterday' }],
    ['reproduction', { reproduction: 'Greeter Greets' }],
    // A command of its own is what the catalogue replaced: it would run as root before any approval.
    ['', { reproduce: '"$RUNBOOK_ROOT/usr/bin/rb-greeter"' }],
    ['', { colour: 'red' }],
  ])('refuses a bad %s', (field, change) => {
    const result = softwareConflictInputSchema.safeParse({ ...valid, ...change });
    expect(result.success).toBe(false);
    if (field) expect(result.error?.issues.map((i) => i.path.join('.'))).toContain(field);
  });
});

describe('the reproduction catalogue', () => {
  const entry = { name: 'greeter-greets', description: 'the greeter greets', command: '"$RUNBOOK_ROOT/usr/bin/rb-greeter"' };

  test('refuses duplicate names, a command over several lines and unknown fields, naming each', () => {
    const result = conflictReproductionCatalogSchema.safeParse({
      reproductions: [entry, { ...entry, name: 'other', command: 'a\nb', colour: 'red' }],
    });
    expect(result.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['reproductions.1', 'reproductions.1.command']);
    expect(conflictReproductionCatalogSchema.safeParse({ reproductions: [entry, entry] }).error?.issues).toEqual([
      expect.objectContaining({ path: ['reproductions', 1, 'name'], message: 'duplicate name greeter-greets' }),
    ]);
  });

  test('an entry limited to hosts applies to those names and tags only', () => {
    const limited = { ...entry, hosts: { names: ['desk-01'], tags: ['kiosk'] } };
    expect(reproductionHostRefusal(entry, { name: 'db-01', tags: [] })).toBeUndefined();
    expect(reproductionHostRefusal(limited, { name: 'desk-01', tags: [] })).toBeUndefined();
    expect(reproductionHostRefusal(limited, { name: 'hall-3', tags: ['kiosk'] })).toBeUndefined();
    expect(reproductionHostRefusal(limited, { name: 'db-01', tags: ['server'] })).toBe(
      'reproduction greeter-greets applies only to desk-01, tag kiosk, not to db-01',
    );
  });
});
