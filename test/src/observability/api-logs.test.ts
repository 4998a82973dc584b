import { createApiApp } from '@runbooks/api';
import type { INestApplication } from '@nestjs/common';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import { TEST_CODEC_KEY_REF } from '../../../activities/src/test-support/secrets';
import { auth, demoPrincipalsFile, testApiSecrets, tokens } from '../api/app';
import { freePort } from '../harness/dev-server';

/** An API whose log lines land, parsed, in `lines`. */
async function loggedApi(temporalAddress: string | undefined, lines: Record<string, unknown>[]): Promise<INestApplication> {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return createApiApp(
    {
      temporalAddress,
      store: { kind: 'sqlite', file: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'runbooks-api-logs-')), 'runbooks.sqlite') },
      principalsFile: demoPrincipalsFile,
      logLevels: ['log', 'warn', 'error', 'fatal'],
      secretsFile: testApiSecrets().config.catalogFile,
      codecKeys: [TEST_CODEC_KEY_REF],
    },
    { logDestination: destination },
  );
}

describe('the API’s log lines', () => {
  const lines: Record<string, unknown>[] = [];
  let app: INestApplication;

  beforeAll(async () => {
    app = await loggedApi(process.env.TEMPORAL_ADDRESS, lines);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('writes one JSON line per request with the principal, the route pattern, the run id and the status, and never the token', async () => {
    await request(app.getHttpServer()).get('/v1/runs/no-such-run-4711').set(auth('sam')).expect(404);
    const line = lines.find((l) => l.msg === 'request' && l.runId === 'no-such-run-4711');
    expect(line).toMatchObject({
      level: 'info',
      service: 'api',
      method: 'GET',
      route: '/v1/runs/:id',
      status: 404,
      principal: 'sam',
      traceId: expect.any(String),
    });
    expect(JSON.stringify(lines)).not.toContain(tokens.sam);
  });

  it('keeps health probes out of the info lines', async () => {
    await request(app.getHttpServer()).get('/healthz').expect(200);
    expect(lines.filter((l) => l.route === '/healthz')).toEqual([]);
  });
});

describe('the API’s log line for an answer it could not give', () => {
  const lines: Record<string, unknown>[] = [];
  let app: INestApplication;

  beforeAll(async () => {
    // Nothing listens there: Temporal is away.
    app = await loggedApi(`127.0.0.1:${await freePort()}`, lines);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('names the principal and the run, like the request line', async () => {
    await request(app.getHttpServer())
      .post('/v1/runs/data-restore-4711/approvals/approve-restore')
      .set(auth('alex'))
      .send({ decision: 'approve' })
      .expect(503);
    const warning = lines.find((l) => l.level === 'warn' && typeof l.msg === 'string' && l.msg.includes(': 503 '));
    expect(warning).toMatchObject({ service: 'api', principal: 'alex', runId: 'data-restore-4711' });
    expect(lines.find((l) => l.msg === 'request' && l.status === 503)).toMatchObject({ principal: 'alex', runId: 'data-restore-4711' });
  });
});
