import fs from 'node:fs';
import { stackCommand } from './stack';

export default async function globalTeardown(): Promise<void> {
  if (process.env.RUNBOOKS_STACK_KEEP) return;
  stackCommand('stop');
  // Only the folder setup made for it (a RUNBOOKS_STACK_DIR given by the caller is the caller's).
  const parent = process.env.RUNBOOKS_STACK_PARENT;
  if (parent) fs.rmSync(parent, { recursive: true, force: true });
}
