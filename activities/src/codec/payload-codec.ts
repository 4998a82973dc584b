import type { Payload, PayloadCodec } from '@temporalio/common';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Metadata of an encrypted payload; the names Temporal's samples use, so its tools recognize them. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One AES-256 key; its id (the name of the secret it comes from) travels with every payload it encrypts. */
export interface CodecKey {
  id: string;
  key: Uint8Array;
}

export const CODEC_KEY_UNKNOWN = 'CodecKeyUnknown';

/**
 * Encrypts every payload (workflow inputs, results, signals, updates, queries, activity arguments,
 * memos, failure details) with AES-256-GCM, so Temporal's database holds no cleartext input. The
 * whole payload (its metadata too) is encrypted; the key id goes in the metadata, and is bound to
 * the ciphertext as associated data. New payloads use the first key (the newest); any listed key
 * decrypts, so old histories stay readable after a rotation. A payload without the encryption
 * metadata (recorded before encryption) passes through as it is.
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly byId: Map<string, Uint8Array>;

  constructor(private readonly keys: readonly CodecKey[]) {
    if (keys.length === 0) throw new Error('the payload codec needs at least one key');
    for (const k of keys) if (k.key.length !== 32) throw new Error(`codec key ${k.id} is not 32 bytes (AES-256)`);
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  /** The key new payloads are encrypted with. */
  get currentKeyId(): string {
    return this.keys[0].id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = this.keys[0];
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(encoder.encode(id));
      const plain = serialize(payload);
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: encoder.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: encoder.encode(id) }, data };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decodeOne(payload));
  }

  /** One payload, decrypted when it is encrypted (synchronous: for tools that walk a whole history). */
  decodeOne(payload: Payload): Payload {
    const encoding = payload.metadata?.encoding;
    if (!encoding || decoder.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
    const idBytes = payload.metadata?.[KEY_ID_METADATA];
    const id = idBytes ? decoder.decode(idBytes) : '';
    const key = this.byId.get(id);
    if (!key) throw new CodecKeyUnknownError(id);
    const data = payload.data ?? new Uint8Array();
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAAD(encoder.encode(id));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    return deserialize(plain);
  }
}

/** A payload names a key this process does not have (not configured, or removed too early after a rotation). */
export class CodecKeyUnknownError extends Error {
  readonly type = CODEC_KEY_UNKNOWN;
  constructor(readonly keyId: string) {
    super(`no payload codec key ${keyId || '(none named)'} is configured (RUNBOOKS_CODEC_KEYS)`);
  }
}

/** A key's bytes from its secret's text: 32 bytes as base64 (`openssl rand -base64 32`) or 64 hex digits. */
export function parseCodecKey(id: string, text: string): CodecKey {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new Error(`codec key ${id} must be 32 bytes, as base64 or 64 hex digits`);
  return { id, key };
}

/** A payload as bytes to encrypt: its metadata and data, base64, in JSON. */
function serialize(payload: Payload): Buffer {
  const metadata = Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  return Buffer.from(JSON.stringify({ metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') }));
}

function deserialize(bytes: Buffer): Payload {
  const { metadata, data } = JSON.parse(bytes.toString('utf8')) as { metadata: Record<string, string>; data: string };
  return {
    metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
    data: new Uint8Array(Buffer.from(data, 'base64')),
  };
}
