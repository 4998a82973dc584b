import { useEffect, useState } from 'preact/hooks';

/** Every console URL lives under this base; the API serves index.html for each (deep links). */
export const BASE = '/console';

export type Route =
  | { page: 'inbox' }
  | { page: 'approval'; runId: string; gateId: string }
  | { page: 'runs'; query: URLSearchParams }
  | { page: 'run'; runId: string }
  | { page: 'launch'; runbook?: string }
  | { page: 'calendar' }
  | { page: 'not-found'; path: string };

export function parseRoute(pathname: string, search: string): Route {
  const path = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const query = new URLSearchParams(search);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'inbox')) return { page: 'inbox' };
  if (parts[0] === 'approvals' && parts.length === 3) return { page: 'approval', runId: parts[1], gateId: parts[2] };
  if (parts[0] === 'runs' && parts.length === 1) return { page: 'runs', query };
  if (parts[0] === 'runs' && parts.length === 2) return { page: 'run', runId: parts[1] };
  if (parts[0] === 'launch' && parts.length <= 2) return { page: 'launch', runbook: parts[1] };
  if (parts[0] === 'calendar' && parts.length === 1) return { page: 'calendar' };
  return { page: 'not-found', path: pathname };
}

/** A console URL from path segments (each encoded), e.g. href('runs', id). */
export function href(...segments: string[]): string {
  return `${BASE}/${segments.map(encodeURIComponent).join('/')}`;
}

export function navigate(url: string, replace = false): void {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useLocation(): { pathname: string; search: string } {
  const read = () => ({ pathname: location.pathname, search: location.search });
  const [loc, setLoc] = useState(read);
  useEffect(() => {
    const onPop = () => setLoc(read());
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  return loc;
}

/** Links stay real <a href>s (open in a new tab, keyboard) and navigate in place on a plain click. */
export function onLinkClick(event: MouseEvent): void {
  const anchor = (event.target as Element | null)?.closest?.('a');
  if (!anchor || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  if (anchor.getAttribute('href')?.startsWith('#')) return; // in-page (error summary to its field)
  const url = new URL(anchor.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(BASE) || anchor.target || anchor.hasAttribute('download')) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
}
