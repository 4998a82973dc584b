import { IncidentCatalogStore, InventoryStore } from '@runbooks/activities';
import type { IncidentInput } from '@runbooks/contracts';
import { Store, storeLocationFromEnv } from '@runbooks/store';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * The incident demo `npm start` runs (no network namespaces, no root): the ERP's standby answers
 * HTTP on a loopback port, its primary's port has nothing listening (the outage), and the incident
 * catalogue names both with a failover that moves a config symlink to the standby. Launching the
 * seeded request diagnoses a refused port on the primary; failing over clears it. Runs until stopped.
 */
const OPS_HOST = 'demo-ops';

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function main(dataDir: string): Promise<void> {
  const dir = path.join(dataDir, 'demo', 'incident');
  await fs.mkdir(dir, { recursive: true });
  const standby = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('erp standby ok\n'));
  const standbyPort = await listen(standby);
  // A port that was free a moment ago and that nothing serves: the primary is down.
  const probe = http.createServer();
  const primaryPort = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));

  const store = Store.open(storeLocationFromEnv(process.env, dataDir));
  const inventory = new InventoryStore(store);
  const { hosts } = await inventory.read();
  if (!hosts.some((h) => h.name === OPS_HOST)) {
    await inventory.replace({
      hosts: [...hosts, { name: OPS_HOST, address: '127.0.0.1', osFamily: 'debian', driver: 'local', tags: ['demo'] }],
    });
  }
  const active = path.join(dir, 'erp-active');
  await fs.writeFile(path.join(dir, 'primary'), `127.0.0.1:${primaryPort}\n`);
  await fs.writeFile(path.join(dir, 'standby'), `127.0.0.1:${standbyPort}\n`);
  await fs.rm(active, { force: true });
  await fs.symlink('primary', active);
  await new IncidentCatalogStore(store).replace({
    services: [
      {
        name: 'erp',
        port: primaryPort,
        url: `http://erp.demo.test:${primaryPort}/`,
        primary: { address: '127.0.0.1' },
        standby: { address: '127.0.0.1', port: standbyPort },
        failover: { host: OPS_HOST, apply: `ln -sfn standby '${active}'`, undo: `ln -sfn primary '${active}'` },
      },
    ],
    locations: [{ name: 'head-office', users: ['finance-team@example.test'] }],
    stakeholders: ['#it-incidents', 'it-manager@example.test'],
    logSources: [{ host: OPS_HOST, name: 'erp-switch', command: `ls -l '${active}'`, about: ['erp'] }],
    severities: {
      P1: { approvers: 1, responseSeconds: 900, approvalSeconds: 900 },
      P2: { approvers: 1, responseSeconds: 3600, approvalSeconds: 3600 },
      P3: { approvers: 2, responseSeconds: 4 * 3600, approvalSeconds: 4 * 3600 },
      P4: { approvers: 2, responseSeconds: 24 * 3600, approvalSeconds: 24 * 3600 },
    },
  });
  await store.close();
  const request: { runbook: string; input: IncidentInput } = {
    runbook: 'incident-response',
    input: {
      title: 'Head office cannot reach the ERP',
      severity: 'P2',
      symptoms: 'Since 09:10 the ERP does not load for the finance team.',
      affected: { users: ['finance-team@example.test'], services: ['erp'], locations: ['head-office'] },
      notify: [],
    },
  };
  await fs.writeFile(path.join(dir, 'incident-request.json'), `${JSON.stringify(request, null, 2)}\n`);
  console.log(
    `incident demo: ERP primary 127.0.0.1:${primaryPort} (down), standby 127.0.0.1:${standbyPort}; request ${dir}/incident-request.json`,
  );
  const stop = () => {
    standby.close(() => process.exit(0));
    standby.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) {
  main(process.argv[2] ?? path.resolve(__dirname, '..', '..', '..', '..', 'data')).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
