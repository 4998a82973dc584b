import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where the API is and who the CLI is: from flags, the environment, or the file `runbooks login` wrote. */
export interface Connection {
  apiUrl: string;
  token: string;
}

export class UsageError extends Error {}

/**
 * The user's config directory: $RUNBOOKS_CONFIG_DIR, else %APPDATA%\runbooks on Windows,
 * else $XDG_CONFIG_HOME/runbooks, else ~/.config/runbooks.
 */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RUNBOOKS_CONFIG_DIR) return env.RUNBOOKS_CONFIG_DIR;
  if (process.platform === 'win32' && env.APPDATA) return path.join(env.APPDATA, 'runbooks');
  return path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'runbooks');
}

export function configFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(configDir(env), 'config.json');
}

function readSaved(file: string): Partial<Connection> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    const saved = JSON.parse(text) as Partial<Connection>;
    return { apiUrl: saved.apiUrl, token: saved.token };
  } catch {
    throw new UsageError(`${file} is not valid JSON: run "runbooks login" again`);
  }
}

/** Flags win over the environment (RUNBOOKS_API_URL, RUNBOOKS_TOKEN), which wins over the saved login. */
export function resolveConnection(flags: { apiUrl?: string }, env: NodeJS.ProcessEnv = process.env): Connection {
  const file = configFile(env);
  const saved = env.RUNBOOKS_API_URL && env.RUNBOOKS_TOKEN ? {} : readSaved(file);
  const apiUrl = flags.apiUrl ?? (env.RUNBOOKS_API_URL || saved.apiUrl);
  const token = env.RUNBOOKS_TOKEN || saved.token;
  if (!apiUrl || !token) {
    throw new UsageError(
      `no ${!apiUrl ? 'API URL' : 'token'} configured: run "runbooks login", or set RUNBOOKS_API_URL and RUNBOOKS_TOKEN`,
    );
  }
  return { apiUrl: normalizeApiUrl(apiUrl), token };
}

export function normalizeApiUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`the API URL ${JSON.stringify(url)} is not a URL (e.g. http://127.0.0.1:3000)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`the API URL must be http or https, not ${parsed.protocol}`);
  }
  return parsed.href.replace(/\/+$/, '');
}

/**
 * Saves the login readable by the user alone (0600, in a 0700 directory): the token is a
 * credential. Written to a temporary file first, so a crash never leaves half a file.
 */
export function saveConnection(connection: Connection, env: NodeJS.ProcessEnv = process.env): string {
  const file = configFile(env);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(connection, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(temporary, 0o600); // the umask may have narrowed it; never widened, but be explicit
  fs.renameSync(temporary, file);
  return file;
}

/** Forgets the saved login; true when there was one. */
export function removeConnection(env: NodeJS.ProcessEnv = process.env): boolean {
  try {
    fs.unlinkSync(configFile(env));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
