/**
 * The HTTP floor of the launch and approval benches: a plain node:http server in a process of its
 * own in front of one Temporal client, and nothing else (no framework, no authentication, no input
 * checks, no audit, no signing). `POST /start` makes the bare side's `client.workflow.start` call
 * with the options it is sent; `POST /update` sends the bare approval Update. What any service
 * that puts HTTP in front of Temporal pays on this machine for the hop alone, measured in the same
 * run as ours and bare: a diagnostic beside the goals, not one of them. Speaks forkBenchServer's
 * messages (service.ts).
 */
import { Client, Connection, type WorkflowStartOptions } from '@temporalio/client';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bareApproveUpdate } from './baseline/plain-workflows';
import { serveBenchProcess } from './service';

/** What `POST /start` carries: the bare side's call, as JSON. */
export interface FloorStart {
  workflowType: string;
  options: WorkflowStartOptions;
}

/** What `POST /update` carries: the bare approval Update for one workflow. */
export interface FloorUpdate {
  workflowId: string;
  by: string;
}

async function startFloor({ temporalAddress }: { temporalAddress: string }) {
  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection, namespace: 'default' });
  const answer = async (url: string | undefined, body: unknown): Promise<[number, unknown]> => {
    if (url === '/start') {
      const { workflowType, options } = body as FloorStart;
      const handle = await client.workflow.start(workflowType, options);
      return [201, { runId: handle.workflowId }];
    }
    if (url === '/update') {
      const { workflowId, by } = body as FloorUpdate;
      return [200, { result: await client.workflow.getHandle(workflowId).executeUpdate(bareApproveUpdate, { args: [{ by }] }) }];
    }
    return [404, { error: 'no such route' }];
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      answer(req.url, JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'))
        .catch((error: unknown): [number, unknown] => [500, { error: String(error) }])
        .then(([status, body]) => {
          const text = JSON.stringify(body);
          res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
          res.end(text);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connection.close();
    },
  };
}

serveBenchProcess(startFloor);
