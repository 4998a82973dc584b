import { z } from 'zod';
import { absolutePath, backupRepositorySchema } from './data-restore';

/**
 * The routine test of a backup: restore one path from the newest snapshot into a scratch folder,
 * verify every checksum against the backup, discard the copy. Either a named `path`, or `paths` to
 * draw one from: the draw depends on the run id only, so a scheduled drill tries a different path
 * on each run and a replay draws the same one.
 */
export const restoreDrillInputSchema = z
  .strictObject({
    repository: backupRepositorySchema,
    path: absolutePath('path').optional(),
    paths: z.array(absolutePath('paths[]')).min(1).max(100).optional(),
    /** A folder on the worker for the drill's copy: each run restores into its own subfolder and removes it. */
    scratchDir: absolutePath('scratchDir'),
  })
  .refine((i) => (i.path === undefined) !== (i.paths === undefined), {
    message: 'give either path (restore that one) or paths (draw one per run), not both and not neither',
    path: ['path'],
  });
export type RestoreDrillInput = z.infer<typeof restoreDrillInputSchema>;

/** The path a drill restores: the named one, or one of `paths` drawn from the run id (FNV-1a), the same on every replay. */
export function drillPath(input: Pick<RestoreDrillInput, 'path' | 'paths'>, runId: string): string {
  if (input.path) return input.path;
  const paths = input.paths ?? [];
  let hash = 0x811c9dc5;
  for (let i = 0; i < runId.length; i++) hash = Math.imul(hash ^ runId.charCodeAt(i), 0x01000193) >>> 0;
  return paths[hash % paths.length];
}
