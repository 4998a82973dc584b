import { WorkflowFailedError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { TEST_CODEC_KEY_REF, TestSecrets } from '../../../activities/src/test-support/secrets';
import { AesGcmPayloadCodec, parseCodecKey } from '@runbooks/activities';
import { historyText } from '../harness/history';
import { startTestWorker, testClient, testPayloadCodec } from '../harness/worker';
import { auth, startTestApi, type TestApi } from './app';

const UI_ORIGIN = 'http://127.0.0.1:8233';
const NEW_KEY = Buffer.alloc(32, 7).toString('base64');
const asJson = (p: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

describe('payload encryption', () => {
  it('a history fetched without the key holds no cleartext input; with the codec it reads back', async () => {
    const worker = await startTestWorker();
    const { client, connection } = await testClient();
    try {
      const ticket = `INC-CLEARTEXT-${randomUUID()}`;
      const handle = await client.workflow.start('dataRestore', {
        taskQueue: worker.taskQueue,
        workflowId: `data-restore-codec-${randomUUID()}`,
        args: [
          {
            input: {
              repository: { url: '/nonexistent/repo', passwordRef: 'secret:backup/none' },
              path: '/srv/projects',
              target: '/srv/projects-codec-test',
              affectedUsers: ['erin@example.test'],
              ticket,
              approval: { timeoutSeconds: 60, escalationContact: 'ops' },
            },
            requestedBy: { id: 'tess', displayName: 'Tess Technician' },
          },
        ],
      });
      await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError); // the secret is not defined
      const stored = historyText(await handle.fetchHistory(), { decrypt: false });
      expect(stored).toContain('binary/encrypted'); // the payloads are there, as ciphertext
      for (const clear of [ticket, '/srv/projects-codec-test', 'erin@example.test', 'Tess Technician']) expect(stored).not.toContain(clear);
      expect(historyText(await handle.fetchHistory())).toContain(ticket); // the key reads it back
    } finally {
      await worker.stop();
      await connection.close();
    }
  });
});

describe('the codec endpoint (/codec/decode, /codec/encode)', () => {
  let api: TestApi;
  let secrets: TestSecrets;
  beforeAll(async () => {
    process.env.RUNBOOKS_SECRET_CODEC_TEST_NEW = NEW_KEY;
    secrets = new TestSecrets([
      { name: 'codec/new', source: { backend: 'env', variable: 'RUNBOOKS_SECRET_CODEC_TEST_NEW' }, runbooks: [], roles: [] },
    ]);
    // Rotated: new payloads with codec/new, the tests' older key still reads.
    api = await startTestApi({
      secretsFile: secrets.config.catalogFile,
      secretsDir: secrets.config.secretsDir,
      codecKeys: ['secret:codec/new', TEST_CODEC_KEY_REF],
      temporalUiOrigin: UI_ORIGIN,
    });
  });
  afterAll(async () => {
    await api?.app.close();
    secrets?.remove();
  });

  const plain = defaultPayloadConverter.toPayload({ ticket: 'INC-9' });

  it('refuses anonymous callers and unknown tokens', async () => {
    await request(api.server).post('/codec/decode').send({ payloads: [] }).expect(401);
    await request(api.server).post('/codec/encode').set('Authorization', 'Bearer nope').send({ payloads: [] }).expect(401);
  });

  it('reads a body without payloads as none, as proto3 JSON writes an empty list', async () => {
    const decoded = await request(api.server).post('/codec/decode').set(auth('alex')).send({}).expect(200);
    expect(decoded.body).toEqual({ payloads: [] });
  });

  it('decodes payloads of the older key after a rotation, and encodes with the newest', async () => {
    const [old] = await testPayloadCodec().encode([plain]);
    const decoded = await request(api.server)
      .post('/codec/decode')
      .set(auth('alex'))
      .send({ payloads: [asJson(old), asJson(plain)] })
      .expect(200);
    expect(decoded.body.payloads).toEqual([asJson(plain), asJson(plain)]);

    const encoded = await request(api.server)
      .post('/codec/encode')
      .set(auth('alex'))
      .send({ payloads: [asJson(plain)] })
      .expect(200);
    const keyId = Buffer.from(encoded.body.payloads[0].metadata['encryption-key-id'], 'base64').toString();
    expect(keyId).toBe('codec/new');
    const newOnly = new AesGcmPayloadCodec([parseCodecKey('codec/new', NEW_KEY)]);
    const [back] = await newOnly.decode([
      {
        metadata: { 'encryption-key-id': Buffer.from(keyId), encoding: Buffer.from('binary/encrypted') },
        data: Buffer.from(encoded.body.payloads[0].data, 'base64'),
      },
    ]);
    expect(defaultPayloadConverter.fromPayload(back)).toEqual({ ticket: 'INC-9' });
  });

  it('names a payload of a key it does not have with 400', async () => {
    const [foreign] = await new AesGcmPayloadCodec([{ id: 'codec/elsewhere', key: Buffer.alloc(32, 9) }]).encode([plain]);
    const res = await request(api.server)
      .post('/codec/decode')
      .set(auth('alex'))
      .send({ payloads: [asJson(foreign)] })
      .expect(400);
    expect(res.body.issues).toEqual([{ path: 'payloads.0', message: expect.stringContaining('codec/elsewhere') }]);
  });

  it('answers the Temporal UI origin CORS preflight, and no other origin', async () => {
    const preflight = await request(api.server)
      .options('/codec/decode')
      .set('Origin', UI_ORIGIN)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type,x-namespace')
      .expect(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
    expect(preflight.headers['access-control-allow-headers']).toContain('x-namespace');
    const call = await request(api.server)
      .post('/codec/decode')
      .set('Origin', UI_ORIGIN)
      .set(auth('alex'))
      .send({ payloads: [] })
      .expect(200);
    expect(call.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
    const other = await request(api.server)
      .post('/codec/decode')
      .set('Origin', 'http://evil.example')
      .set(auth('alex'))
      .send({ payloads: [] });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
