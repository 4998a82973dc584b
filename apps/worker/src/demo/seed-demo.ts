import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CalendarStore, RestoreTargetPolicyStore, demoFileServer, serviceDataDirs } from '@runbooks/activities';
import type { SecretCatalogContent } from '@runbooks/contracts';
import { Store, storeLocationFromEnv, type StoreLocation } from '@runbooks/store';
import { seedDemoConflict } from './conflict-fixture';
import { createLabFleet } from './lab-fixture';
import { ResticFixture, writeTree } from './restic-fixture';
import { seedDemoHardware } from './seed-hardware';

/**
 * The embedded default's demo: a restic repository with three snapshots of a project share,
 * a "damaged" live copy to restore over, and a ready-made launch request, so a new user can
 * run a restore in their first minute. Idempotent: an existing demo is left as it is.
 */
export async function seedDemo(dataDir: string, store: StoreLocation): Promise<{ requestFile: string; created: boolean }> {
  const demo = path.join(dataDir, 'demo');
  const requestFile = path.join(demo, 'restore-request.json');
  if (await exists(requestFile)) {
    // A demo seeded before restore target policies existed gets its policy now.
    const { input } = JSON.parse(await fs.readFile(requestFile, 'utf8')) as { input: { repository: { url: string }; target: string } };
    await seedDemoRestorePolicy(dataDir, store, input.repository.url, path.dirname(input.target));
    return { requestFile, created: false };
  }

  const password = 'demo-only-restic-password'; // demo data only; real repositories use a secret store
  await fs.mkdir(demo, { recursive: true });

  const share = path.join(demoFileServer(dataDir), 'srv', 'projects');
  const repo = await ResticFixture.init(path.join(demo, 'backups', 'projects'), password);
  const passwordRef = await seedDemoSecret(dataDir, repo.repository, password);
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
      repository: { url: repo.repository, passwordRef },
      path: share,
      before: '2026-11-10T00:00:00Z',
      target: share,
      affectedUsers: ['finance-team@example.test'],
      ticket: 'INC-2041',
      approval: { timeoutSeconds: 3600, escalationContact: '2nd-line on-call' },
    },
  };
  await seedDemoFleet(dataDir, store);
  await seedDemoHardware(dataDir, store, { url: repo.repository, passwordRef });
  await seedDemoRestorePolicy(dataDir, store, repo.repository, path.dirname(share));
  // Written last: its presence means the whole demo is in place.
  await fs.writeFile(requestFile, `${JSON.stringify(request, null, 2)}\n`);
  return { requestFile, created: true };
}

/**
 * The demo repository's password as a named secret: a file under `<data>/secrets/`, defined in
 * `<data>/secrets.json` for restores and hardware swaps by technicians and restore drills by
 * schedulers, against this repository only.
 */
async function seedDemoSecret(dataDir: string, repository: string, password: string): Promise<string> {
  const name = 'backup/demo-projects';
  const file = path.join(dataDir, 'secrets', name);
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await fs.writeFile(file, `${password}\n`, { mode: 0o600 });
  const catalog: SecretCatalogContent = {
    demo: true,
    secrets: [
      {
        name,
        description: 'Demo only: the password of the demo restic repository',
        source: { backend: 'file', file: name },
        runbooks: ['data-restore', 'restore-drill', 'hardware-swap'],
        roles: ['technician', 'scheduler'],
        repositories: [repository],
      },
    ],
  };
  await fs.writeFile(path.join(dataDir, 'secrets.json'), `${JSON.stringify(catalog, null, 2)}\n`, { mode: 0o600 });
  return `secret:${name}`;
}

/**
 * The restore target policy lets the demo repository restore into the demo share's folder, and
 * nowhere else; a policy an admin already wrote is left as it is.
 */
async function seedDemoRestorePolicy(dataDir: string, location: StoreLocation, repository: string, root: string): Promise<void> {
  const store = Store.open(location);
  try {
    const policy = new RestoreTargetPolicyStore(store, serviceDataDirs(dataDir, store));
    if ((await policy.read()).updatedAt === null) await policy.replace({ rules: [{ repository, roots: [root] }] });
  } finally {
    await store.close();
  }
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

/**
 * The embedded default's payload codec key, `secret:codec/demo`: 32 random bytes made on the first
 * start, kept in `<data>/secrets/codec/demo` and defined in `<data>/secrets.json` (for no run: only the
 * service reads it). A demo key on a laptop; production sets RUNBOOKS_CODEC_KEYS to keys of its own.
 */
export async function ensureDemoCodecKey(dataDir: string): Promise<string> {
  const name = 'codec/demo';
  const file = path.join(dataDir, 'secrets', name);
  if (!(await exists(file))) {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await fs.writeFile(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  }
  const catalogFile = path.join(dataDir, 'secrets.json');
  const catalog: SecretCatalogContent = (await exists(catalogFile))
    ? (JSON.parse(await fs.readFile(catalogFile, 'utf8')) as SecretCatalogContent)
    : { demo: true, secrets: [] };
  if (!catalog.secrets.some((s) => s.name === name)) {
    catalog.secrets.push({
      name,
      description: 'Demo only: the payload codec key of the embedded default (generated on first start)',
      source: { backend: 'file', file: name },
      runbooks: [],
      roles: [],
    });
    await fs.writeFile(catalogFile, `${JSON.stringify(catalog, null, 2)}\n`, { mode: 0o600 });
  }
  return `secret:${name}`;
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
    .then(async ({ requestFile, created }) => {
      console.log(`${created ? 'seeded' : 'found'} the demo restore: ${requestFile}`);
      const conflict = await seedDemoConflict(dataDir, storeLocationFromEnv(process.env, dataDir));
      if (conflict) console.log(`the demo software conflict on desk-01: ${conflict}`);
      await ensureDemoCodecKey(dataDir);
    })
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
