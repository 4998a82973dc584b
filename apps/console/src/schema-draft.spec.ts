import { RUNBOOKS } from '@runbooks/contracts';
import { z } from 'zod';
import { draftToValue, initialDraft, shownPaths, type Draft, type JsonSchema } from './schema-draft';

/** The schema the catalog publishes (GET /v1/runbooks), made the same way. */
function published(name: string): { schema: JsonSchema; parse: (v: unknown) => ReturnType<z.ZodType['safeParse']> } {
  const def = RUNBOOKS.find((r) => r.name === name)!;
  return {
    schema: z.toJSONSchema(def.inputSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema,
    parse: (v) => def.inputSchema.safeParse(v),
  };
}

type Fields = Record<string, Draft>;

describe('forms generated from a runbook input schema', () => {
  it('starts a data-restore form from the defaults and sends only what was filled, which the runbook schema accepts', () => {
    const { schema, parse } = published('data-restore');
    const draft = initialDraft(schema, {}) as Fields;
    expect(draft.approval).toEqual({ timeoutSeconds: '3600', escalationContact: '2nd-line on-call' });
    expect(draft.affectedUsers).toBe('');

    const filled: Fields = {
      ...draft,
      repository: { url: '/srv/backups/restic', passwordRef: 'secret:backup/projects' },
      path: '/srv/projects',
      target: '/srv/projects',
      affectedUsers: ' erin@example.com\n\njane@example.com ',
    };
    const value = draftToValue(schema, filled);
    expect(value).toEqual({
      repository: { url: '/srv/backups/restic', passwordRef: 'secret:backup/projects' },
      path: '/srv/projects',
      target: '/srv/projects',
      affectedUsers: ['erin@example.com', 'jane@example.com'],
      approval: { timeoutSeconds: 3600, escalationContact: '2nd-line on-call' },
    });
    expect(parse(value).success).toBe(true);
  });

  it('sends an empty required object, so the API names its missing fields, and text typed into a number field as typed', () => {
    const { schema, parse } = published('data-restore');
    const draft = initialDraft(schema, {}) as Fields;
    const value = draftToValue(schema, { ...draft, approval: { timeoutSeconds: 'soon', escalationContact: '' } }) as Record<
      string,
      unknown
    >;
    expect(value.repository).toEqual({});
    expect(value.approval).toEqual({ timeoutSeconds: 'soon' });
    const issues = parse(value).error!.issues.map((i) => i.path.join('.'));
    expect(issues).toEqual(
      expect.arrayContaining(['repository.url', 'repository.passwordRef', 'path', 'target', 'affectedUsers', 'approval.timeoutSeconds']),
    );
  });

  it('handles lists of objects, mixed-type lists and a choice between object shapes (security-patching)', () => {
    const { schema, parse } = published('security-patching');
    const draft = initialDraft(schema, {}) as Fields;
    expect(draft.waves).toBe('1\n5%\n25%\nrest');
    expect(draft.patches).toEqual([]);
    expect(draft.failureThreshold).toEqual({ variant: 1, value: { percent: '10' } });
    expect(draft.rollback).toBe('failed-hosts');

    const filled: Fields = {
      ...draft,
      targets: { names: '', tags: 'lab' },
      patches: [{ package: 'openssl', version: '3.0.15' }],
      waves: '1\n25%\nrest',
      failureThreshold: { variant: 0, value: { count: '2' } },
    };
    const value = draftToValue(schema, filled) as Record<string, unknown>;
    expect(value).toMatchObject({
      targets: { tags: ['lab'] },
      patches: [{ package: 'openssl', version: '3.0.15' }],
      waves: [1, '25%', 'rest'],
      failureThreshold: { count: 2 },
      canary: { tags: ['canary'] },
    });
    expect(value).not.toHaveProperty('windowOverride');
    expect(value).not.toHaveProperty('startAt');
    expect(parse(value).success).toBe(true);
  });

  it('knows which API issue paths it shows at a field (the rest go to the summary)', () => {
    const { schema } = published('security-patching');
    const draft = { ...(initialDraft(schema, {}) as Fields), patches: [{ package: '', version: '' }] };
    const paths = shownPaths(schema, 'input', draft);
    expect(paths).toEqual(
      expect.arrayContaining(['input.targets.tags', 'input.patches.0.version', 'input.failureThreshold.percent', 'input.waves.2']),
    );
    expect(paths).not.toContain('input.patches.1.version');
    expect(paths).not.toContain('input.nonsense');
  });
});
