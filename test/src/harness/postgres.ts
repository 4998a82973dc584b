import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from './dev-server';

/** Debian's PostgreSQL 15 (`apt-get install postgresql`; .ci/run installs it when missing). */
const PG_BIN = process.env.RUNBOOKS_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface TestPostgres {
  /** The cluster's folder (data, socket, log), owned by the postgres user. */
  dir: string;
  port: number;
  /** A role that may create roles and databases (not a superuser), reached over TCP with a password. */
  adminUrl: string;
}

/** Runs a PostgreSQL binary as the postgres user (initdb and the server refuse to run as root). */
function asPostgres(bin: string, args: string[]): string {
  const command = [path.join(PG_BIN, bin), ...args];
  const asRoot = process.getuid?.() === 0;
  return execFileSync(asRoot ? 'runuser' : command[0], asRoot ? ['-u', 'postgres', '--', ...command] : command.slice(1), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * A throwaway cluster in a temporary folder, listening on 127.0.0.1 on a free port; local socket
 * connections trust the postgres user (to bootstrap), TCP ones need a password.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runbooks-pg-'));
  fs.chmodSync(dir, 0o700);
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', dir]);
  const data = path.join(dir, 'data');
  const pwfile = path.join(dir, 'superuser-password');
  const superPassword = randomBytes(18).toString('hex');
  fs.writeFileSync(pwfile, superPassword, { mode: 0o600 });
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', pwfile]);
  asPostgres('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    `--pwfile=${pwfile}`,
    '-E',
    'UTF8',
  ]);
  const port = await freePort();
  const options = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c fsync=off -c max_connections=200`;
  asPostgres('pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-o', options, '-w', '-t', '60', 'start']);
  const adminPassword = randomBytes(18).toString('hex');
  const client = new Client({ host: '127.0.0.1', port, user: 'postgres', password: superPassword, database: 'postgres' });
  await client.connect();
  try {
    await client.query(`create role runbooks_admin login createdb createrole password '${adminPassword}'`);
  } finally {
    await client.end();
  }
  return { dir, port, adminUrl: `postgres://runbooks_admin:${adminPassword}@127.0.0.1:${port}/postgres` };
}

export function stopTestPostgres(pg: TestPostgres | undefined): void {
  if (!pg) return;
  try {
    asPostgres('pg_ctl', ['-D', path.join(pg.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
  } finally {
    fs.rmSync(pg.dir, { recursive: true, force: true });
  }
}

/**
 * A new database owned by a new role of its own (so tests never share a database or an owner),
 * in the cluster globalSetup started (RUNBOOKS_TEST_PG_ADMIN_URL); resolves its URL.
 */
export async function freshPostgresDatabase(adminUrl = process.env.RUNBOOKS_TEST_PG_ADMIN_URL): Promise<string> {
  if (!adminUrl) throw new Error('RUNBOOKS_TEST_PG_ADMIN_URL is not set: run the tests through jest (its globalSetup starts PostgreSQL)');
  const name = `rb_${randomBytes(6).toString('hex')}`;
  const password = randomBytes(18).toString('hex');
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`create role ${name} login password '${password}'`);
    await client.query(`grant ${name} to runbooks_admin`); // lets the admin create a database owned by it
    await client.query(`create database ${name} owner ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.username = name;
  url.password = password;
  url.pathname = `/${name}`;
  return url.toString();
}
