import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from './api';

export interface Loaded<T> {
  data?: T;
  error?: ApiError;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads `load()` when `key` changes, and again every `pollMs` while `poll` says so (a live run
 * page polls until the run ends). A failed poll keeps the last data and shows the error.
 */
export function useLoad<T>(
  key: string | null,
  load: () => Promise<T>,
  options: { pollMs?: number; poll?: (data: T) => boolean } = {},
): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({ loading: key !== null });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const optionsRef = useRef(options);
  optionsRef.current = options;
  const reload = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    if (key === null) return;
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setState((s) => ({ ...s, loading: true }));
    const run = async () => {
      try {
        const data = await loadRef.current();
        if (!alive) return;
        setState({ data, loading: false });
        const { pollMs, poll } = optionsRef.current;
        if (pollMs && (!poll || poll(data))) timer = setTimeout(run, pollMs);
      } catch (err) {
        if (!alive) return;
        setState((s) => ({ data: s.data, error: toApiError(err), loading: false }));
        const { pollMs } = optionsRef.current;
        if (pollMs) timer = setTimeout(run, pollMs * 2);
      }
    };
    void run();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [key, tick]);
  return { ...state, reload };
}

export function toApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : new ApiError(0, (err as Error)?.message ?? String(err));
}

export const getJson = <T>(path: string) => api<T>(path);

/** A date as the viewer reads it (their time zone), with the zone named. */
export function formatTime(iso: string | undefined | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function relative(iso: string | undefined): string {
  if (!iso) return '';
  const ms = Date.parse(iso) - Date.now();
  const abs = Math.abs(ms);
  const [n, unit] =
    abs < 60_000
      ? [Math.round(ms / 1000), 'second']
      : abs < 3_600_000
        ? [Math.round(ms / 60_000), 'minute']
        : abs < 86_400_000
          ? [Math.round(ms / 3_600_000), 'hour']
          : [Math.round(ms / 86_400_000), 'day'];
  return new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }).format(n, unit as Intl.RelativeTimeFormatUnit);
}
