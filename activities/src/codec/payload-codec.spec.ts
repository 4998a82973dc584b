import { defaultPayloadConverter } from '@temporalio/common';
import { randomBytes } from 'node:crypto';
import { AesGcmPayloadCodec, CodecKeyUnknownError, ENCRYPTED_ENCODING, KEY_ID_METADATA, parseCodecKey } from './payload-codec';

const older = { id: 'codec/2026-05', key: randomBytes(32) };
const newer = { id: 'codec/2026-11', key: randomBytes(32) };
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');
const input = defaultPayloadConverter.toPayload({ target: '/srv/projects', ticket: 'INC-2041', comment: 'for erin@example.com' });

describe('AesGcmPayloadCodec', () => {
  it('encrypts the whole payload, naming the key, and decrypts it back', async () => {
    const codec = new AesGcmPayloadCodec([newer]);

    const [encrypted] = await codec.encode([input]);

    expect(text(encrypted.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encrypted.metadata?.[KEY_ID_METADATA])).toBe('codec/2026-11');
    expect(text(encrypted.data)).not.toContain('INC-2041');
    expect(JSON.stringify(encrypted)).not.toContain('json/plain');
    expect(await codec.decode([encrypted])).toEqual([input]);
  });

  it('after a rotation encrypts with the newest key and still decrypts what the older key encrypted', async () => {
    const [old] = await new AesGcmPayloadCodec([older]).encode([input]);
    const rotated = new AesGcmPayloadCodec([newer, older]);

    const [fresh] = await rotated.encode([input]);

    expect(text(fresh.metadata?.[KEY_ID_METADATA])).toBe('codec/2026-11');
    expect(await rotated.decode([old, fresh])).toEqual([input, input]);
  });

  it('passes through payloads recorded before encryption', async () => {
    expect(await new AesGcmPayloadCodec([newer]).decode([input])).toEqual([input]);
  });

  it('refuses a payload of a key it does not have, and a tampered one', async () => {
    const [old] = await new AesGcmPayloadCodec([older]).encode([input]);
    await expect(new AesGcmPayloadCodec([newer]).decode([old])).rejects.toBeInstanceOf(CodecKeyUnknownError);
    const tampered = { ...old, data: Buffer.from(old.data as Uint8Array).fill(1, 20, 21) };
    await expect(new AesGcmPayloadCodec([older]).decode([tampered])).rejects.toThrow();
  });

  it('reads a key as base64 or hex, and refuses one that is not 32 bytes', () => {
    const key = randomBytes(32);
    expect(parseCodecKey('k', key.toString('base64')).key).toEqual(key);
    expect(parseCodecKey('k', `${key.toString('hex')}\n`).key).toEqual(key);
    expect(() => parseCodecKey('k', randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
  });
});
