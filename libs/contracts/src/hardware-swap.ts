import { z } from 'zod';
import { absolutePath, backupRepositorySchema } from './data-restore';
import { handsOnSwapFields, serialNumberSchema } from './disk-replacement';
import type { JsonSchema } from './evidence';
import { hostNameSchema } from './hosts';
import { patchSchema } from './security-patching';
import { singleLine } from './text';

/** The kinds of component a hardware swap replaces; a disk swap also brings the user's data back. */
export const componentKindSchema = z.enum(['disk', 'memory', 'network-card', 'power-supply', 'fan']);
export type ComponentKind = z.infer<typeof componentKindSchema>;

export const assetTagSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be an asset tag (1 to 64 letters, digits, dots, dashes or underscores)');
export const partModelSchema = singleLine(100).min(1);

/** One swap the register recorded: which run replaced which part with which. */
export const assetSwapSchema = z.strictObject({
  runId: singleLine(300).min(1),
  at: z.string(),
  by: singleLine(200).min(1),
  removed: z.strictObject({ serial: serialNumberSchema, model: partModelSchema }),
  installed: z.strictObject({ serial: serialNumberSchema, model: partModelSchema }),
});
export type AssetSwap = z.infer<typeof assetSwapSchema>;

/**
 * What a user writes into the asset register for one tag (PUT /v1/assets/{tag}): the component, the
 * host it is in, the part installed now, and the part models that may replace it (the compatibility
 * the hands-on task is checked against).
 */
export const assetWriteSchema = z.strictObject({
  host: hostNameSchema,
  component: componentKindSchema,
  model: partModelSchema,
  serial: serialNumberSchema,
  compatibleModels: z
    .array(partModelSchema)
    .min(1, 'name at least one part model that may replace this one')
    .max(100)
    .refine((models) => new Set(models).size === models.length, 'must not name a model twice'),
});
export type AssetWrite = z.infer<typeof assetWriteSchema>;

/** An asset as the register keeps it: what users wrote, and the swaps runs recorded. */
export const assetSchema = assetWriteSchema.extend({
  tag: assetTagSchema,
  swaps: z.array(assetSwapSchema).default([]),
});
export type Asset = z.infer<typeof assetSchema>;

export const hardwareSwapInputSchema = z.strictObject({
  /** The machine with the faulty component. */
  host: hostNameSchema,
  /** The faulty component's tag in the asset register (it must be in `host`). */
  assetTag: assetTagSchema,
  /** The user's data, backed up before the machine is powered down and restored if the disk is replaced. */
  userData: z.strictObject({
    repository: backupRepositorySchema,
    /** The data's folder as the worker reaches it (the host's share or mount). */
    path: absolutePath('userData.path'),
  }),
  /** Services stopped before the shutdown (systemd units on real hosts). */
  services: z
    .array(z.string().regex(/^[A-Za-z0-9@_.:-]{1,255}$/, 'must be a service (systemd unit) name'))
    .max(50)
    .default([]),
  /** Driver and firmware packages brought to these versions after power-on (rolled back if the swap fails its tests). */
  drivers: z.array(patchSchema).max(50).default([]),
  /** ticket; notify: the machine's user and whoever else hears that it is back; slaSeconds: each line's time for the hands-on swap. */
  ...handsOnSwapFields,
  /** Who hears when the swap fails its tests and the machine is put back as it was. */
  escalationContact: singleLine(200).min(1).default('tier3'),
});
export type HardwareSwapInput = z.infer<typeof hardwareSwapInputSchema>;

/** What the technician gives when the part is swapped. */
export const componentSwapEvidenceSchema = z.strictObject({
  assetTag: assetTagSchema.describe('The asset tag on the component slot (as the register has it)'),
  removedSerial: serialNumberSchema.describe('Serial number on the part taken out'),
  installedSerial: serialNumberSchema.describe('Serial number on the part put in'),
  partModel: partModelSchema.describe('Model of the part put in; it must be one the asset register lists as compatible'),
  connectionsSecured: z.literal(true).describe('Cables and connectors are seated and the case is closed'),
});
export type ComponentSwapEvidence = z.infer<typeof componentSwapEvidenceSchema>;
/**
 * Converted once, when the module loads: workflow code shares this module with every run (the
 * worker preloads and freezes it), and zod cannot convert a schema at run time then.
 */
const componentSwapEvidenceBaseForm = z.toJSONSchema(componentSwapEvidenceSchema) as JsonSchema & {
  properties: Record<string, JsonSchema>;
};

/**
 * The evidence form of one swap: the asset tag and the removed part's serial must be the register's,
 * and the part model one of its compatible models, so the task's validator refuses an incompatible
 * part (400 naming evidence.partModel) before anything enters history.
 */
export function componentSwapEvidenceForm(asset: Pick<Asset, 'tag' | 'serial' | 'compatibleModels'>): JsonSchema {
  const form = componentSwapEvidenceBaseForm;
  return {
    ...form,
    properties: {
      ...form.properties,
      assetTag: { ...form.properties.assetTag, const: asset.tag },
      removedSerial: { ...form.properties.removedSerial, const: asset.serial },
      partModel: { ...form.properties.partModel, enum: [...asset.compatibleModels] },
    },
  };
}

/** One check of a diagnosis: what was read or run, and what it found. */
export interface DiagnosticCheck {
  name: 'kernel-log' | 'smart' | 'basic-tests';
  /** not-available: the host has no such source (no smartctl, no access to the kernel log). */
  status: 'passed' | 'failed' | 'not-available';
  detail: string;
  /** The lines that show the fault (a few, for the report). */
  evidence?: string[];
}
