import { ApplicationFailure } from '@temporalio/common';
import { secretRefSchema, type SecretRef } from '@runbooks/contracts';
import { readFile } from 'node:fs/promises';

export const SECRET_UNAVAILABLE = 'SecretUnavailable';

/**
 * Reads the value a secret reference names: `env:NAME` from the worker's environment,
 * `file:/abs/path` from a file on the worker host (one trailing newline dropped).
 * Errors name the variable or the file, never a value: not even the reference when it is
 * malformed, since a malformed reference may be a pasted secret.
 */
export async function resolveSecret(ref: SecretRef): Promise<string> {
  if (!secretRefSchema.safeParse(ref).success) {
    throw unavailable('the secret reference is malformed (expected env:VARIABLE_NAME or file:/absolute/path)');
  }
  const name = ref.slice(ref.indexOf(':') + 1);
  if (ref.startsWith('env:')) {
    const value = process.env[name];
    if (!value) throw unavailable(`environment variable ${name} is not set on the worker (or is empty)`);
    return value;
  }
  let content: string;
  try {
    content = await readFile(name, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'read error';
    throw unavailable(`secret file ${name} cannot be read on the worker (${code})`);
  }
  const value = content.replace(/\r?\n$/, '');
  if (!value) throw unavailable(`secret file ${name} is empty`);
  return value;
}

function unavailable(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, SECRET_UNAVAILABLE);
}
