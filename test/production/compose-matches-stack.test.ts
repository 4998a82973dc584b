import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '@runbooks/contracts';
import fs from 'node:fs';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..');
const compose = fs.readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8');
const script = fs.readFileSync(path.join(repoRoot, 'scripts', 'production-stack.sh'), 'utf8');

// No Docker engine here: docker-compose.yml is checked against the stack these tests run on.
test('docker-compose.yml runs the Temporal server version the production stack is tested on', () => {
  const version = /^TEMPORAL_SERVER_VERSION=v(\S+)$/m.exec(script)?.[1];
  expect(version).toMatch(/^\d+\.\d+\.\d+$/);
  const images = [...compose.matchAll(/image: temporalio\/(server|admin-tools):(\S+)/g)].map((m) => m[2]);
  expect(images.length).toBeGreaterThanOrEqual(3);
  expect(new Set(images)).toEqual(new Set([version]));
  expect(compose).toContain('--env, temporal-postgres');
  expect(compose).toContain('./config/temporal-postgres.yaml');
});

test('docker-compose.yml registers every search attribute the runbooks use', () => {
  for (const registration of SEARCH_ATTRIBUTE_REGISTRATIONS) {
    const [name, type] = registration.split('=');
    expect(compose).toMatch(new RegExp(`--name ${name} --type ${type}\\b`));
  }
});
