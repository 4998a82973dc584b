import { secretNameOf, secretRefSchema } from '@runbooks/contracts';
import type { SecretResolver } from '../secrets/resolve-secret';
import { AesGcmPayloadCodec, parseCodecKey } from './payload-codec';

/**
 * `RUNBOOKS_CODEC_KEYS`: the payload keys as secret references, newest first, separated by commas
 * (`secret:codec/2026-11,secret:codec/2026-05`). Empty: no encryption.
 */
export function codecKeyRefsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.RUNBOOKS_CODEC_KEYS ?? '')
    .split(',')
    .map((ref) => ref.trim())
    .filter(Boolean);
}

/**
 * The payload codec of the given keys, each read through the secrets configuration (its id is the
 * secret's name); undefined when no key is configured. Every client and worker of one deployment
 * must be given the same keys.
 */
export async function loadPayloadCodec(refs: readonly string[], secrets: SecretResolver): Promise<AesGcmPayloadCodec | undefined> {
  if (refs.length === 0) return undefined;
  const keys = [];
  for (const ref of refs) {
    if (!secretRefSchema.safeParse(ref).success) throw new Error('RUNBOOKS_CODEC_KEYS must list secret references (secret:<name>)');
    keys.push(parseCodecKey(secretNameOf(ref), await secrets.resolve(ref)));
  }
  return new AesGcmPayloadCodec(keys);
}
