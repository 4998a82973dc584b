import { clearSession, loadSession } from './session';

export interface Issue {
  path: string;
  message: string;
}

/** An answer of the API other than 2xx: `{ statusCode, error, message, issues? }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly issues: Issue[] = [],
  ) {
    super(message);
  }
}

type Listener = () => void;
const signedOutListeners = new Set<Listener>();

/** Called when the API answers 401: the token is gone or revoked, so the session ends. */
export function onSignedOut(listener: Listener): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  /** Overrides the session's token (sign-in checks a token before keeping it). */
  token?: string;
  accept?: string;
}

/** Calls the API on the same origin with the session's Bearer token. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const token = options.token ?? loadSession()?.token;
  const headers: Record<string, string> = { Accept: options.accept ?? 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch (err) {
    throw new ApiError(0, `the API could not be reached (${(err as Error).message})`);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const isJson = (res.headers.get('content-type') ?? '').includes('json');
  const body: unknown = isJson && text ? JSON.parse(text) : text;
  if (!res.ok) {
    const err = (body ?? {}) as { message?: string; issues?: Issue[] };
    if (res.status === 401 && !options.token) {
      clearSession();
      signedOutListeners.forEach((l) => l());
    }
    throw new ApiError(res.status, err.message ?? `${res.status} ${res.statusText}`, err.issues ?? []);
  }
  return body as T;
}

export const post = <T>(path: string, body: unknown = {}) => api<T>(path, { method: 'POST', body });

export const encode = encodeURIComponent;
