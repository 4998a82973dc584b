import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { onSignedOut } from './api';
import { Calendar } from './pages/calendar';
import { ApprovalPage, Inbox } from './pages/inbox';
import { Launch } from './pages/launch';
import { RunPage } from './pages/run';
import { Runs } from './pages/runs';
import { SignIn } from './pages/signin';
import { href, onLinkClick, parseRoute, useLocation, type Route } from './router';
import { clearSession, loadSession, may, type Session } from './session';
import './styles.css';

const TITLES: Record<Route['page'], string> = {
  inbox: 'Inbox',
  approval: 'Approval',
  runs: 'Runs',
  run: 'Run',
  launch: 'Launch',
  calendar: 'Schedules and maintenance',
  'not-found': 'Not found',
};

function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const { pathname, search } = useLocation();
  const route = parseRoute(pathname, search);
  const mainRef = useRef<HTMLElement>(null);

  useEffect(() => onSignedOut(() => setSession(null)), []);
  // A new page: name it in the title, and move focus to its heading so screen readers announce it.
  useEffect(() => {
    document.title = `${TITLES[route.page]} — Runbooks console`;
    mainRef.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [pathname]);

  // Deep links survive sign-in: the URL stays as it was, the page shows once signed in.
  if (!session) return <SignIn onSignedIn={setSession} />;
  const me = session.principal;
  const nav: [string, string, boolean][] = [
    [href('inbox'), 'Inbox', route.page === 'inbox' || route.page === 'approval'],
    [href('runs'), 'Runs', route.page === 'runs' || route.page === 'run'],
    ...(may(me, 'technician') ? [[href('launch'), 'Launch', route.page === 'launch'] as [string, string, boolean]] : []),
    [href('calendar'), 'Schedules', route.page === 'calendar'],
  ];

  return (
    <div onClick={onLinkClick}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Runbooks</span>
        <nav aria-label="Main">
          <ul>
            {nav.map(([url, label, current]) => (
              <li key={url}>
                <a href={url} aria-current={current ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">
          {me.displayName} <span class="roles">({me.roles.join(', ')})</span>
        </span>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            clearSession();
            setSession(null);
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" ref={mainRef}>
        <Page route={route} session={session} />
      </main>
    </div>
  );
}

function Page({ route, session }: { route: Route; session: Session }) {
  const me = session.principal;
  switch (route.page) {
    case 'inbox':
      return <Inbox me={me} />;
    case 'approval':
      return <ApprovalPage key={`${route.runId}/${route.gateId}`} runId={route.runId} gateId={route.gateId} />;
    case 'runs':
      return <Runs query={route.query} />;
    case 'run':
      return <RunPage key={route.runId} runId={route.runId} me={me} />;
    case 'launch':
      return <Launch runbook={route.runbook} />;
    case 'calendar':
      return <Calendar />;
    default:
      return (
        <>
          <h1 tabIndex={-1}>Not found</h1>
          <p>
            No console page at <code>{route.path}</code>. <a href={href('inbox')}>Go to the inbox</a>.
          </p>
        </>
      );
  }
}

render(<App />, document.getElementById('app')!);
