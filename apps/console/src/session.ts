/**
 * Who is signed in. Today the console signs in with a service token (Bearer), kept in
 * sessionStorage so it ends with the tab. Single sign-on plugs in here: an OIDC sign-in yields
 * an access token the API accepts as a Bearer token too, stored and sent the same way.
 */
export type Role = 'technician' | 'approver' | 'scheduler' | 'admin' | 'tier1' | 'tier2' | 'tier3';

export interface Principal {
  id: string;
  displayName: string;
  roles: Role[];
}

export interface Session {
  token: string;
  /** How the token was obtained; 'sso' is for the OpenID Connect sign-in when it lands. */
  method: 'service-token' | 'sso';
  principal: Principal;
}

const KEY = 'runbooks.console.session';

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}

/** Admin holds every role (as the API decides). */
export function may(principal: Principal | undefined, role: Role): boolean {
  return !!principal && (principal.roles.includes('admin') || principal.roles.includes(role));
}
