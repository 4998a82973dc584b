import { z } from 'zod';

/**
 * A secret is named, never given: `env:NAME` reads an environment variable of the worker,
 * `file:/abs/path` reads a file on the worker host. Only the reference enters workflow
 * history; the activity that needs the value resolves it.
 */
export const secretRefSchema = z
  .string()
  .regex(
    /^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+)$/,
    'must be a secret reference: env:VARIABLE_NAME or file:/absolute/path (never the secret itself)',
  );
export type SecretRef = z.infer<typeof secretRefSchema>;
