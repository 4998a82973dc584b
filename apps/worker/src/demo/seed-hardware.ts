import fs from 'node:fs/promises';
import path from 'node:path';
import { AssetRegister, InventoryStore, LabFleet, demoFileServer } from '@runbooks/activities';
import { Store, type StoreLocation } from '@runbooks/store';
import { writeTree } from './restic-fixture';

export const DEMO_WORKSTATION = 'lab-ws-00001';

/**
 * The hardware-swap demo: a lab workstation whose disk is failing (kernel log errors, SMART
 * FAILED), its user's files on the demo file server standing for that disk, its components in the
 * asset register with the parts that may replace them, and a ready launch request in
 * data/demo/hardware-swap-request.json. The workstation is not tagged `lab`, so the patch demo
 * leaves it alone.
 */
export async function seedDemoHardware(
  dataDir: string,
  storeLocation: StoreLocation,
  repository: { url: string; passwordRef: string },
): Promise<void> {
  const home = path.join(demoFileServer(dataDir), 'srv', 'workstations', DEMO_WORKSTATION, 'home');
  await writeTree(home, {
    'erin/thesis/chapter-1.md': '# Chapter 1\n\nWhy backups are tested.\n',
    'erin/thesis/data.csv': 'run,seconds\n1,42\n2,39\n',
    'erin/photos/readme.txt': 'Photos of the lab bench.\n',
  });
  const store = Store.open(storeLocation);
  try {
    const inventory = new InventoryStore(store);
    const { hosts } = await inventory.read();
    if (!hosts.some((h) => h.name === DEMO_WORKSTATION)) {
      await inventory.replace({
        hosts: [
          ...hosts,
          { name: DEMO_WORKSTATION, address: `${DEMO_WORKSTATION}.lab.invalid`, osFamily: 'lab', driver: 'lab', tags: ['workstation'] },
        ],
      });
    }
    await new LabFleet(path.join(dataDir, 'lab'), store).seed([
      {
        name: DEMO_WORKSTATION,
        packages: { 'firmware-sata': '1.0', 'linux-image': '6.1.0-25' },
        hardware: {
          services: ['cups', 'docker'],
          dataDir: home,
          components: {
            disk: { serial: 'WD-WS1-0001', model: 'WD Blue 1TB', faulty: true },
            memory: { serial: 'KVR-WS1-0002', model: 'Kingston 16GB DDR4-3200', faulty: false },
          },
        },
      },
    ]);
    const register = new AssetRegister(store);
    await register.write('AT-WS1-DISK', {
      host: DEMO_WORKSTATION,
      component: 'disk',
      model: 'WD Blue 1TB',
      serial: 'WD-WS1-0001',
      compatibleModels: ['WD Blue 1TB', 'Samsung 870 EVO 1TB'],
    });
    await register.write('AT-WS1-RAM', {
      host: DEMO_WORKSTATION,
      component: 'memory',
      model: 'Kingston 16GB DDR4-3200',
      serial: 'KVR-WS1-0002',
      compatibleModels: ['Kingston 16GB DDR4-3200', 'Crucial 16GB DDR4-3200'],
    });
  } finally {
    await store.close();
  }
  const request = {
    runbook: 'hardware-swap',
    input: {
      host: DEMO_WORKSTATION,
      assetTag: 'AT-WS1-DISK',
      userData: { repository, path: home },
      services: ['cups', 'docker'],
      drivers: [{ package: 'firmware-sata', version: '1.1' }],
      ticket: 'INC-3318',
      notify: ['erin@example.test'],
      slaSeconds: 3600,
    },
  };
  await fs.writeFile(path.join(dataDir, 'demo', 'hardware-swap-request.json'), `${JSON.stringify(request, null, 2)}\n`);
}
