import { ApplicationFailure } from '@temporalio/common';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { RunbookActivities } from '../types';
import { pathExists } from './tree';

export const FileFailureType = {
  /** Nothing to swap in: staging is gone and the target was never filled from it. */
  stagingMissing: 'StagingMissing',
  /** retainedCopyDir already holds something that is not this run's retained copy. */
  retainedCopyInTheWay: 'RetainedCopyInTheWay',
  /** Nothing to put back: the retained copy is gone and the target too. */
  retainedCopyMissing: 'RetainedCopyMissing',
  /** A rename crossed filesystems; the folders must be siblings on one filesystem. */
  crossDevice: 'NotOnSameFilesystem',
} as const;

export type FileActivities = Pick<RunbookActivities, 'swapIntoTarget' | 'restorePreviousContents' | 'discardStaging'>;

/**
 * Moves folders by rename only, so each step is atomic and a retry can tell from what exists
 * which steps a previous attempt already did. retainedCopyDir must be unique to the run.
 */
export function createFileActivities(): FileActivities {
  return {
    async swapIntoTarget({ target, stagingDir, retainedCopyDir }) {
      const [stagingExists, targetExists, retainedExists] = await Promise.all([stagingDir, target, retainedCopyDir].map(pathExists));
      if (!stagingExists) {
        // A previous attempt finished the swap and its result was lost: report the same result.
        if (targetExists) return { target, retainedCopyDir: retainedExists ? retainedCopyDir : null };
        throw ApplicationFailure.nonRetryable(
          `cannot swap into ${target}: staging folder ${stagingDir} does not exist`,
          FileFailureType.stagingMissing,
        );
      }
      if (targetExists && retainedExists) {
        throw ApplicationFailure.nonRetryable(
          `cannot keep the current contents of ${target}: ${retainedCopyDir} already exists`,
          FileFailureType.retainedCopyInTheWay,
        );
      }
      if (targetExists) {
        await mkdir(path.dirname(retainedCopyDir), { recursive: true });
        await move(target, retainedCopyDir);
      } else await mkdir(path.dirname(target), { recursive: true });
      await move(stagingDir, target);
      // retainedExists with no target: a previous attempt moved the target aside, then stopped.
      return { target, retainedCopyDir: targetExists || retainedExists ? retainedCopyDir : null };
    },

    async restorePreviousContents({ target, retainedCopyDir }) {
      // The restored content is renamed out of the way first, so the target path never holds
      // a half-deleted tree, and a retry finds it to finish deleting.
      const discarded = path.join(path.dirname(target), `.${path.basename(target)}.discarded-restore`);
      if (retainedCopyDir === null) {
        if (await pathExists(target)) await move(target, discarded);
        await rm(discarded, { recursive: true, force: true });
        return { summary: `removed the restored ${target}; it did not exist before the restore` };
      }
      if (await pathExists(retainedCopyDir)) {
        if (await pathExists(target)) await move(target, discarded);
        await move(retainedCopyDir, target);
      } else if (!(await pathExists(target))) {
        throw ApplicationFailure.nonRetryable(
          `cannot put back the previous contents of ${target}: neither ${retainedCopyDir} nor ${target} exists`,
          FileFailureType.retainedCopyMissing,
        );
      }
      await rm(discarded, { recursive: true, force: true });
      return { summary: `put the previous contents back into ${target} (from ${retainedCopyDir}); removed the restored content` };
    },

    async discardStaging({ stagingDir }) {
      await rm(stagingDir, { recursive: true, force: true });
    },
  };
}

async function move(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    throw ApplicationFailure.nonRetryable(
      `cannot move ${from} to ${to}: they are on different filesystems (keep them siblings on one filesystem)`,
      FileFailureType.crossDevice,
    );
  }
}
