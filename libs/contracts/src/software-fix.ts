import { z } from 'zod';
import { freeText } from './text';
import { patchSchema, securityPatchingInputSchema } from './security-patching';

/**
 * The fixed version of the one package at fault, and why (for the report). `action` is how it
 * gets there: `update` (the default: install that version) or `rollback` (downgrade to it, from
 * the host's kept .deb when it left the index, and with `hold` keep the next upgrade from
 * bringing the bad one back): the two fixes a software-conflict run finds by version.
 */
export const softwareFixSchema = z
  .strictObject({
    package: patchSchema.shape.package,
    version: patchSchema.shape.version,
    reason: freeText(500).min(1),
    action: z.enum(['update', 'rollback']).optional(),
    hold: z.boolean().optional(),
  })
  .refine((fix) => fix.hold === undefined || fix.action === 'rollback', {
    message: 'hold applies only to action "rollback"',
    path: ['hold'],
  });
export type SoftwareFix = z.infer<typeof softwareFixSchema>;

/**
 * A software fix rolls out like a patch campaign (targets, canary, window, waves, threshold,
 * approval, rollback) with one package's fixed version instead of a patch list. No window
 * override: only security patching admits it, and only for admins; an input that names one is
 * refused (strict), never silently run inside the window.
 */
export const softwareFixInputSchema = securityPatchingInputSchema
  .omit({ patches: true, windowOverride: true })
  .extend({ fix: softwareFixSchema })
  .strict();
export type SoftwareFixInput = z.infer<typeof softwareFixInputSchema>;
