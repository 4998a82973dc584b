import { ApplicationFailure } from '@temporalio/common';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readTree, writeTree, type Content } from '../test-support/restic-repository';
import { createFileActivities, FileFailureType } from './activities';

describe('file activities: swap restored content into the target and undo it', () => {
  const activities = createFileActivities();
  let root: string;
  let target: string;
  let stagingDir: string;
  let retainedCopyDir: string;
  const previous: Content = { 'a.txt': Buffer.from('previous a\n'), 'deep/b.bin': randomBytes(4096) };
  const restored: Content = { 'a.txt': Buffer.from('restored a\n'), 'c.txt': Buffer.from('restored c\n') };

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'file-activities-'));
    target = path.join(root, 'projects');
    stagingDir = path.join(root, '.projects.staging');
    retainedCopyDir = path.join(root, '.projects.before-run-1');
    writeTree(stagingDir, restored);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const swap = () => activities.swapIntoTarget({ target, stagingDir, retainedCopyDir, idempotencyKey: 'swap' });
  const undo = (retained: string | null) =>
    activities.restorePreviousContents({ target, retainedCopyDir: retained, idempotencyKey: 'undo' });

  it('swaps staging into the target and keeps the previous contents in retainedCopyDir', async () => {
    writeTree(target, previous);

    await expect(swap()).resolves.toEqual({ target, retainedCopyDir });

    expect(readTree(target)).toEqual(restored);
    expect(readTree(retainedCopyDir)).toEqual(previous);
    expect(existsSync(stagingDir)).toBe(false);
  });

  it('gives the same result when a retried swap finds it already done', async () => {
    writeTree(target, previous);
    const first = await swap();

    await expect(swap()).resolves.toEqual(first);
    expect(readTree(target)).toEqual(restored);
    expect(readTree(retainedCopyDir)).toEqual(previous);
  });

  it('finishes a swap that stopped after moving the target aside', async () => {
    writeTree(target, previous);
    renameSync(target, retainedCopyDir);

    await expect(swap()).resolves.toEqual({ target, retainedCopyDir });
    expect(readTree(target)).toEqual(restored);
    expect(readTree(retainedCopyDir)).toEqual(previous);
  });

  it('swaps into a target that did not exist, retaining nothing, also when retried', async () => {
    const result = await swap();

    expect(result).toEqual({ target, retainedCopyDir: null });
    await expect(swap()).resolves.toEqual(result);
    expect(readTree(target)).toEqual(restored);
    expect(existsSync(retainedCopyDir)).toBe(false);
  });

  it('refuses to overwrite an existing retainedCopyDir', async () => {
    writeTree(target, previous);
    writeTree(retainedCopyDir, { 'older-retained.txt': Buffer.from('from another run') });

    const failure = await swap().catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).toBe(FileFailureType.retainedCopyInTheWay);
    expect(readTree(target)).toEqual(previous);
  });

  it('puts the previous contents back byte for byte, and again when retried', async () => {
    writeTree(target, previous);
    const swapped = await swap();

    const first = await undo(swapped.retainedCopyDir);
    const second = await undo(swapped.retainedCopyDir);

    expect(readTree(target)).toEqual(previous);
    expect(existsSync(retainedCopyDir)).toBe(false);
    expect(second).toEqual(first);
    expect(first.summary).toContain(target);
    expect(readdirSync(root)).toEqual([path.basename(target)]);
  });

  it('finishes an undo that stopped after moving the restored content aside', async () => {
    writeTree(target, previous);
    await swap();
    renameSync(target, path.join(root, '.projects.discarded-restore'));

    await undo(retainedCopyDir);

    expect(readTree(target)).toEqual(previous);
    expect(readdirSync(root)).toEqual([path.basename(target)]);
  });

  it('removes the restored target when there was nothing before it, idempotently', async () => {
    const swapped = await swap();

    await undo(swapped.retainedCopyDir);
    await undo(swapped.retainedCopyDir);

    expect(existsSync(target)).toBe(false);
    expect(readdirSync(root)).toEqual([]);
  });

  it('discards the staging folder, and is fine when it is already gone', async () => {
    mkdirSync(path.join(stagingDir, 'nested'), { recursive: true });

    await activities.discardStaging({ stagingDir });
    await activities.discardStaging({ stagingDir });

    expect(existsSync(stagingDir)).toBe(false);
  });
});
