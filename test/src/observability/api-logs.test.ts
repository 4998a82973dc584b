import { createApiApp } from '@runbooks/api';
import type { INestApplication } from '@nestjs/common';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import { TEST_CODEC_KEY_REF } from '../../../activities/src/test-support/secrets';
import { auth, demoPrincipalsFile, testApiSecrets, tokens } from '../api/app';

describe('the API’s log lines', () => {
  const lines: Record<string, unknown>[] = [];
  let app: INestApplication;

  beforeAll(async () => {
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    app = await createApiApp(
      {
        temporalAddress: process.env.TEMPORAL_ADDRESS,
        store: { kind: 'sqlite', file: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'runbooks-api-logs-')), 'runbooks.sqlite') },
        principalsFile: demoPrincipalsFile,
        logLevels: ['log', 'warn', 'error', 'fatal'],
        secretsFile: testApiSecrets().config.catalogFile,
        codecKeys: [TEST_CODEC_KEY_REF],
      },
      { logDestination: destination },
    );
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
