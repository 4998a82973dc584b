import { z } from 'zod';
import { diskSwapEvidenceForm } from './disk-replacement';
import { checkEvidence, unsupportedKeywords } from './evidence';

describe('the evidence checker the task validators use', () => {
  test('every keyword of a form generated from zod is one it enforces', () => {
    expect(unsupportedKeywords(diskSwapEvidenceForm)).toEqual([]);
    const richer = z.toJSONSchema(
      z.strictObject({
        ticket: z.string().min(3).max(20),
        disks: z.array(z.strictObject({ serial: z.string().regex(/^[A-Z0-9-]+$/), bay: z.number().int().min(0).max(23) })).min(1),
        photo: z.url().optional(),
        at: z.iso.datetime(),
        outcome: z.enum(['swapped', 'no-spare']),
      }),
    ) as Record<string, unknown>;
    expect(unsupportedKeywords(richer)).toEqual([]);
    expect(
      checkEvidence(richer, { ticket: 'INC-1', disks: [{ serial: 'ab', bay: 30 }], at: 'yesterday', outcome: 'lost', more: 1 }),
    ).toEqual([
      { path: 'disks.0.serial', message: 'must match ^[A-Z0-9-]+$' },
      { path: 'disks.0.bay', message: 'must be at most 23' },
      { path: 'at', message: 'must be a date-time' },
      { path: 'outcome', message: 'must be one of "swapped", "no-spare"' },
      { path: 'more', message: 'is not a field of this form' },
    ]);
    expect(
      checkEvidence(richer, { ticket: 'INC-1', disks: [{ serial: 'AB-1', bay: 3 }], at: '2026-11-30T10:00:00Z', outcome: 'swapped' }),
    ).toEqual([]);
  });

  test('a form using what it cannot enforce is named, so no rule is silently skipped', () => {
    expect(
      unsupportedKeywords({ type: 'object', properties: { a: { anyOf: [{ type: 'string' }] }, b: { type: ['string', 'null'] } } }),
    ).toEqual(['a.anyOf', 'b.type']);
    expect(unsupportedKeywords({ type: 'string', format: 'ipv6' })).toEqual(['format ipv6']);
  });

  test('type mismatches and missing fields name the field', () => {
    expect(checkEvidence(diskSwapEvidenceForm, { removedSerial: 12, rebuildStarted: 'yes' })).toEqual([
      { path: 'installedSerial', message: 'is required' },
      { path: 'removedSerial', message: 'must be a string' },
      { path: 'rebuildStarted', message: 'must be a boolean' },
    ]);
    expect(checkEvidence(diskSwapEvidenceForm, 'not an object')).toEqual([{ path: '', message: 'must be an object' }]);
  });
});
