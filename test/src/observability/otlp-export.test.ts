import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { demoPrincipalsFile, repoRoot } from '../api/app';
import { freePort } from '../harness/dev-server';
import { eventually, temporalAddress } from '../harness/worker';

/** The spans an OTLP/HTTP (JSON) receiver was sent, by the service.name of their resource. */
interface ReceivedSpan {
  service?: string;
  name: string;
}

/** A collector's OTLP/HTTP endpoint on loopback: keeps the spans posted to /v1/traces. */
async function startReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type']?.startsWith('application/json')) {
        const sent = JSON.parse(body) as {
          resourceSpans: {
            resource: { attributes: { key: string; value: { stringValue?: string } }[] };
            scopeSpans: { spans: { name: string }[] }[];
          }[];
        };
        for (const { resource, scopeSpans } of sent.resourceSpans) {
          const service = resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
          for (const scope of scopeSpans) for (const span of scope.spans) spans.push({ service, name: span.name });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('traces exported over OTLP', () => {
  let api: ChildProcess | undefined;
  let dataDir: string;
  afterAll(async () => {
    if (api?.exitCode === null) api.kill('SIGKILL');
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('the API process sends its request spans to OTEL_EXPORTER_OTLP_ENDPOINT, the last ones as it stops on SIGTERM', async () => {
    const receiver = await startReceiver();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'runbooks-otlp-'));
    const port = await freePort();
    api = spawn(process.execPath, [path.join(repoRoot, 'apps', 'api', 'dist', 'main.js')], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: temporalAddress(),
        RUNBOOKS_DATA_DIR: dataDir,
        RUNBOOKS_PRINCIPALS_FILE: demoPrincipalsFile,
        PORT: String(port),
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        // The batch would be sent after 5 s; here nothing is sent before the process is told to stop.
        OTEL_BSP_SCHEDULE_DELAY: '600000',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => api?.once('exit', (code) => resolve(code)));
    try {
      await eventually(
        async () => ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok ? true : undefined),
        60_000,
        'the API to be ready',
      );
      expect((await fetch(`http://127.0.0.1:${port}/v1/runbooks`)).status).toBe(401);
      expect(receiver.spans).toEqual([]);
      api.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(receiver.spans).toEqual(
        expect.arrayContaining([
          { service: 'runbooks-api', name: 'GET /readyz' },
          { service: 'runbooks-api', name: 'GET /v1/runbooks' },
        ]),
      );
    } finally {
      await receiver.close();
    }
  });
});
