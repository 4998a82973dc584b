import { z } from 'zod';
import { errorBodySchema } from '../http/errors';
import { defineRoute } from '../http/route';

const base64 = z
  .string()
  .max(4 * 1024 * 1024)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');

/** A Temporal payload in proto3 JSON: every bytes field base64. */
export const codecPayloadSchema = z.strictObject({
  metadata: z
    .record(
      z
        .string()
        .max(200)
        .regex(/^[A-Za-z0-9._-]{1,200}$/, 'must be a metadata key'),
      base64,
    )
    .default({}),
  data: base64.default(''),
});
export type CodecPayload = z.output<typeof codecPayloadSchema>;

/**
 * The Temporal codec server protocol: the same shape in and out. proto3 JSON leaves an empty list
 * out, so `{}` is no payloads (the CLI's `workflow stack` sends it for a query without arguments).
 */
export const codecBodySchema = z.strictObject({ payloads: z.array(codecPayloadSchema).max(1000).default([]) });
export type CodecBody = z.output<typeof codecBodySchema>;

const error = (description: string) => ({ description, schema: errorBodySchema });
const responses = {
  200: { description: 'The payloads, in the order given', schema: codecBodySchema },
  400: error('A payload is malformed, names a key this deployment does not have, or does not decrypt'),
  404: error('No payload codec is configured (RUNBOOKS_CODEC_KEYS)'),
};

export const codecRoutes = {
  decode: defineRoute({
    operationId: 'decodePayloads',
    method: 'post',
    path: '/codec/decode',
    summary: 'Decrypt payloads (codec server for the Temporal UI and CLI)',
    description:
      "Temporal's codec server protocol: the Temporal web UI (its codec endpoint set to this API's /codec, with the " +
      'access token passed) and `temporal workflow show --codec-endpoint` show encrypted histories decrypted. ' +
      'Payloads without the encryption metadata come back unchanged.',
    tag: 'codec',
    access: 'authenticated',
    body: codecBodySchema,
    status: 200,
    responses,
  }),
  encode: defineRoute({
    operationId: 'encodePayloads',
    method: 'post',
    path: '/codec/encode',
    summary: 'Encrypt payloads with the current key (codec server)',
    description: 'What the Temporal UI and CLI call to encrypt an input they send (a signal, a reset reason).',
    tag: 'codec',
    access: 'authenticated',
    body: codecBodySchema,
    status: 200,
    responses,
  }),
};
