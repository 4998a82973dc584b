import { Controller, Inject, NotFoundException } from '@nestjs/common';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { RequestValidationError } from '../http/errors';
import { ApiRoute, Valid } from '../http/route';
import { PAYLOAD_CODEC } from '../tokens';
import { codecRoutes, type CodecBody, type CodecPayload } from './codec.routes';

/** The codec server of this deployment, behind the API's authentication, with the workers' keys. */
@Controller()
export class CodecController {
  constructor(@Inject(PAYLOAD_CODEC) private readonly codec: PayloadCodec | null) {}

  @ApiRoute(codecRoutes.decode)
  decode(@Valid('body') body: CodecBody): Promise<CodecBody> {
    return this.run(body, (codec, payloads) => codec.decode(payloads));
  }

  @ApiRoute(codecRoutes.encode)
  encode(@Valid('body') body: CodecBody): Promise<CodecBody> {
    return this.run(body, (codec, payloads) => codec.encode(payloads));
  }

  private async run(body: CodecBody, through: (codec: PayloadCodec, payloads: Payload[]) => Promise<Payload[]>): Promise<CodecBody> {
    const codec = this.codec;
    if (!codec) throw new NotFoundException('no payload codec is configured (RUNBOOKS_CODEC_KEYS)');
    // One at a time, so a payload that does not decrypt is named by its index.
    const out: CodecPayload[] = [];
    for (const [i, payload] of body.payloads.entries()) {
      try {
        const [result] = await through(codec, [fromJson(payload)]);
        out.push(toJson(result));
      } catch (error) {
        throw new RequestValidationError('request body', [{ path: ['payloads', i], message: (error as Error).message }]);
      }
    }
    return { payloads: out };
  }
}

function fromJson(payload: CodecPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
    data: new Uint8Array(Buffer.from(payload.data, 'base64')),
  };
}

function toJson(payload: Payload): CodecPayload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}
