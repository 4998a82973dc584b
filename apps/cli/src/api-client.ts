import type { ApiErrorBody } from './api-types';
import type { Connection } from './config';

/** The API answered with an error status; `body` is its JSON error (with `issues` naming fields on a 400). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.message);
  }
}

/** The API could not be reached, or its answer was not what an API answers. */
export class ConnectionError extends Error {}

type Query = Record<string, string | number | boolean | undefined>;

const REQUEST_TIMEOUT_MS = 30_000;

/** A thin client of the runbooks HTTP API: JSON in, JSON out, errors as ApiError. */
export class ApiClient {
  constructor(private readonly connection: Connection) {}

  get apiUrl(): string {
    return this.connection.apiUrl;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.json<T>('GET', path, { query });
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.json<T>('POST', path, { body });
  }

  delete(path: string): Promise<void> {
    return this.json<void>('DELETE', path, {});
  }

  /** A text representation (e.g. the Markdown report). */
  async text(path: string, accept: string): Promise<string> {
    const response = await this.send('GET', path, { accept });
    return response.text();
  }

  private async json<T>(method: string, path: string, options: { query?: Query; body?: unknown }): Promise<T> {
    const response = await this.send(method, path, { ...options, accept: 'application/json' });
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ConnectionError(`${this.apiUrl} answered ${method} ${path} with something other than JSON: is it the runbooks API?`);
    }
  }

  private async send(method: string, path: string, options: { query?: Query; body?: unknown; accept: string }): Promise<Response> {
    const url = new URL(this.apiUrl + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { authorization: `Bearer ${this.connection.token}`, accept: options.accept };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason =
        (error as Error).name === 'TimeoutError' ? 'no answer within 30 s' : (cause?.code ?? cause?.message ?? (error as Error).message);
      throw new ConnectionError(`cannot reach the API at ${this.apiUrl} (${reason})`);
    }
    if (response.ok) return response;
    throw new ApiError(response.status, await errorBody(response));
  }
}

async function errorBody(response: Response): Promise<ApiErrorBody> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Partial<ApiErrorBody>;
    if (typeof body.message === 'string') {
      return { statusCode: response.status, error: body.error ?? response.statusText, message: body.message, issues: body.issues };
    }
  } catch {
    // not JSON: a proxy or another server answered
  }
  return { statusCode: response.status, error: response.statusText, message: text.slice(0, 500) || response.statusText };
}
