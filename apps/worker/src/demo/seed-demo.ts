import fs from 'node:fs/promises';
import path from 'node:path';
import { CalendarStore } from '@runbooks/activities';
import { storeLocationFromEnv, type StoreLocation } from '@runbooks/store';
import { createLabFleet } from './lab-fixture';
import { ResticFixture, writeTree } from './restic-fixture';

/**
 * The embedded default's demo: a restic repository with three snapshots of a project share,
 * a "damaged" live copy to restore over, and a ready-made launch request, so a new user can
 * run a restore in their first minute. Idempotent: an existing demo is left as it is.
 */
export async function seedDemo(dataDir: string, store: StoreLocation): Promise<{ requestFile: string; created: boolean }> {
  const demo = path.join(dataDir, 'demo');
  const requestFile = path.join(demo, 'restore-request.json');
  if (await exists(requestFile)) return { requestFile, created: false };

  const passwordFile = path.join(demo, 'restic-password');
  const password = 'demo-only-restic-password'; // demo data only; real repositories use a secret store
  await fs.mkdir(demo, { recursive: true });
  await fs.writeFile(passwordFile, `${password}\n`, { mode: 0o600 });

  const share = path.join(demo, 'fileserver', 'srv', 'projects');
  const repo = await ResticFixture.init(path.join(demo, 'backups', 'projects'), password);
  const week = (n: number) => ({
    'budget/2026-q4.csv': `item,amount\nservers,${12000 + n * 500}\nlicenses,${3000 + n * 100}\n`,
    'handbook/onboarding.md': `# Onboarding\n\nRevision ${n}: accounts, laptop, MFA enrolment.\n`,
    [`minutes/week-${44 + n}.txt`]: `Minutes of week ${44 + n}\n`,
  });
  await writeTree(share, week(1));
  await repo.backup(share, new Date('2026-11-01T22:00:00Z'));
  await writeTree(share, { ...week(1), ...week(2) });
  await repo.backup(share, new Date('2026-11-08T22:00:00Z'));
  await writeTree(share, { ...week(1), ...week(2), ...week(3) });
  await repo.backup(share, new Date('2026-11-15T22:00:00Z'));
  // Someone overwrote the share by mistake: this is what the restore repairs.
  await writeTree(share, { 'budget/2026-q4.csv': 'oops\n' });

  const request = {
    runbook: 'data-restore',
    input: {
      repository: { url: repo.repository, passwordRef: `file:${passwordFile}` },
      path: share,
      before: '2026-11-10T00:00:00Z',
      target: share,
      affectedUsers: ['finance-team@example.test'],
      ticket: 'INC-2041',
      approval: { timeoutSeconds: 3600, escalationContact: '2nd-line on-call' },
    },
  };
  await seedDemoFleet(dataDir, store);
  // Written last: its presence means the whole demo is in place.
  await fs.writeFile(requestFile, `${JSON.stringify(request, null, 2)}\n`);
  return { requestFile, created: true };
}

/**
 * The demo lab fleet: 2 canary and 40 production hosts (simulated, with real state under data/lab
 * and their ledger in the store), in the store's inventory; three production hosts are rigged to fail their health
 * check after patching, so a new user sees rollbacks and the rollout stopped at its failure threshold.
 * A ready request is in data/demo/patch-request.json.
 */
async function seedDemoFleet(dataDir: string, storeLocation: StoreLocation): Promise<void> {
  const lab = await createLabFleet({
    dir: dataDir,
    store: storeLocation,
    canary: 2,
    production: 40,
    packages: { openssl: '3.0.11', 'linux-image': '6.1.0-25' },
  });
  // Three wave-3 hosts fail their health check: each is rolled back, the third passes the threshold.
  for (const host of lab.production.slice(17, 20)) await lab.fleet.setFaults(host, { failHealth: true });
  const request = {
    runbook: 'security-patching',
    input: {
      targets: { tags: ['lab'] },
      patches: [
        { package: 'openssl', version: '3.0.15' },
        { package: 'linux-image', version: '6.1.0-28' },
      ],
      waves: [1, '10%', '50%', 'rest'],
      concurrency: 1,
      batchSize: 10,
      bakeSeconds: 5,
      failureThreshold: { count: 2 },
      ticket: 'CHG-3107',
    },
  };
  await fs.writeFile(path.join(dataDir, 'demo', 'patch-request.json'), `${JSON.stringify(request, null, 2)}\n`);

  // The agreed window, and one short enough to watch a run wait for it and use it in a demo.
  const calendar = new CalendarStore(lab.store);
  await calendar.putWindow({
    name: 'sunday-night',
    opens: '0 1 * * 0',
    timezone: 'Europe/Berlin',
    durationSeconds: 4 * 3600,
    description: 'Sundays 01:00-05:00 Berlin time',
  });
  await calendar.putWindow({
    name: 'demo-every-3-min',
    opens: '*/3 * * * *',
    timezone: 'UTC',
    durationSeconds: 60,
    description: 'Demo only: open the first minute of every 3 minutes',
  });
  await lab.store.close();
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

if (require.main === module) {
  const dataDir = process.argv[2] ?? path.resolve(__dirname, '..', '..', '..', '..', 'data');
  seedDemo(dataDir, storeLocationFromEnv(process.env, dataDir))
    .then(({ requestFile, created }) => console.log(`${created ? 'seeded' : 'found'} the demo restore: ${requestFile}`))
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
