import { z } from 'zod';
import { hasRole, principalSchema, type Principal, type Role } from './principal';
import { fromBase64, hmacSha256, sha256, toBase64, toHex, utf8 } from './sha256';

/**
 * What the API asserts about the caller of an Update, signed with HMAC-SHA256 under a key the
 * API and the workers share. The workflow cannot see who called, so without it the principal in
 * the arguments is whatever the caller wrote (anyone with Temporal frontend access could forge it).
 */
export const callerAssertionSchema = z.object({
  /** Which key signed it (rotation: workers accept every configured key, the API signs with the newest). */
  kid: z.string().min(1),
  principal: principalSchema,
  /** When the API signed it (ISO); validators refuse one older than the configured maximum age. */
  issuedAt: z.string(),
  /** The Update (or start) it is for. */
  update: z.string().min(1),
  /** sha256 (hex) of the canonical JSON of the Update's arguments, without the assertion. */
  argsSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** base64 HMAC-SHA256 over the canonical JSON of the fields above. */
  mac: z.string().min(1),
});
export type CallerAssertion = z.infer<typeof callerAssertionSchema>;

export interface AssertionKey {
  kid: string;
  key: Uint8Array;
}

/** Env text `kid:base64key[,kid:base64key]`, newest first (RUNBOOKS_ASSERTION_KEYS). */
export function parseAssertionKeys(text: string): AssertionKey[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const at = part.indexOf(':');
      const kid = part.slice(0, at);
      const key = at > 0 ? fromBase64(part.slice(at + 1)) : undefined;
      if (!kid || !key || key.length < 32) throw new Error(`an assertion key must be kid:base64 of at least 32 bytes (key ${kid || '?'})`);
      return { kid, key };
    });
}

/** JSON with object keys sorted and undefined left out, so the same value always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The digest an assertion binds: the arguments as sent, less the assertion itself. */
export function argsDigest(args: Record<string, unknown>): string {
  return toHex(sha256(utf8(canonicalJson({ ...args, assertion: undefined })))); // canonicalJson leaves undefined out
}

/** sha256 (hex) of a run's validated input, as the API binds approval gates to it (`inputSha256`). */
export function inputDigest(input: unknown): string {
  return toHex(sha256(utf8(canonicalJson(input))));
}

function macOf(key: Uint8Array, fields: Omit<CallerAssertion, 'mac'>): string {
  return toBase64(hmacSha256(key, utf8(canonicalJson(fields))));
}

export function signAssertion(
  key: AssertionKey,
  update: string,
  principal: Principal,
  args: Record<string, unknown>,
  issuedAt: Date,
): CallerAssertion {
  const fields = {
    kid: key.kid,
    principal: { id: principal.id, displayName: principal.displayName, roles: [...principal.roles] },
    issuedAt: issuedAt.toISOString(),
    update,
    argsSha256: argsDigest(args),
  };
  return { ...fields, mac: macOf(key.key, fields) };
}

export interface AssertionCheck {
  update: string;
  args: Record<string, unknown> & { principal: Principal; assertion?: CallerAssertion };
  nowMs: number;
  maxAgeMs: number;
}

/** How far ahead of the verifier's clock an assertion may be dated (clocks of API and worker differ a little). */
const MAX_CLOCK_SKEW_MS = 60_000;

/** Why the assertion is not acceptable, or undefined when it is. */
export function assertionRefusal(keys: readonly AssertionKey[], { update, args, nowMs, maxAgeMs }: AssertionCheck): string | undefined {
  const a = args.assertion;
  const unsigned = signatureRefusal(keys, a, update);
  if (unsigned || !a) return unsigned;
  const p = args.principal;
  if (a.principal.id !== p.id || canonicalJson([...a.principal.roles].sort()) !== canonicalJson([...p.roles].sort())) {
    return `the principal in the request (${p.id}) is not the one the API vouched for (${a.principal.id})`;
  }
  if (a.argsSha256 !== argsDigest(args)) return 'the caller assertion was signed for other arguments';
  return ageRefusal(a, nowMs, maxAgeMs);
}

/** Why `a` is not a signature of ours for `update` (missing, unknown key, wrong MAC, another Update), or undefined. */
function signatureRefusal(keys: readonly AssertionKey[], a: CallerAssertion | undefined, update: string): string | undefined {
  if (!a || typeof a !== 'object')
    return 'the caller is not vouched for: the request carries no signed assertion (send it through the API)';
  const key = keys.find((k) => k.kid === a.kid);
  if (!key) return `the caller assertion is signed with key ${String(a.kid)}, which this worker does not know`;
  const { mac, ...fields } = a;
  if (!constantTimeEqual(macOf(key.key, fields), String(mac))) return 'the caller assertion does not verify: its signature is wrong';
  if (a.update !== update) return `the caller assertion is for ${a.update}, not ${update}`;
  return undefined;
}

function ageRefusal(a: CallerAssertion, nowMs: number, maxAgeMs: number): string | undefined {
  const issued = Date.parse(a.issuedAt);
  if (!Number.isFinite(issued)) return 'the caller assertion has no valid issuedAt';
  if (nowMs - issued > maxAgeMs)
    return `the caller assertion is stale: issued ${Math.round((nowMs - issued) / 1000)} s ago, at most ${Math.round(maxAgeMs / 1000)} s accepted`;
  if (issued - nowMs > MAX_CLOCK_SKEW_MS) return 'the caller assertion is dated in the future';
  return undefined;
}

/**
 * What a run hands the activities that resolve secrets for it, so the worker checks who launched
 * it with the API's signature, not with what the run's input says. Built by workflow code from the
 * run's real start arguments: whoever starts a workflow directly controls those, but not the code.
 */
export interface LaunchCredential {
  /** The API's signed word on the launcher (absent when the run was started without the API). */
  assertion?: CallerAssertion;
  /** argsDigest of the run's start arguments (as first started: without what continue-as-new carries). */
  startArgsSha256: string;
  /** When the run first started (Temporal's record): the assertion must have been fresh then. */
  startedAt: string;
  /** A scheduled run's assertion is as old as its schedule's input: only its signature counts. */
  scheduled: boolean;
}

/** Why the run's launch is not one the API vouched for, or undefined (then `assertion.principal` is its launcher). */
export function launchCredentialRefusal(
  keys: readonly AssertionKey[],
  maxAgeMs: number,
  workflowType: string,
  credential: LaunchCredential,
): string | undefined {
  const a = credential.assertion;
  const unsigned = signatureRefusal(keys, a, launchAssertionName(workflowType));
  if (unsigned || !a) return `the run's launch is not vouched for by the API: ${unsigned}`;
  if (a.argsSha256 !== credential.startArgsSha256) return "the run's launch assertion was signed for another launch";
  const stale = credential.scheduled ? undefined : ageRefusal(a, Date.parse(credential.startedAt), maxAgeMs);
  return stale ? `the run's launch assertion was not fresh when the run started: ${stale}` : undefined;
}

function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}

/**
 * The workflow sandbox cannot read the environment: the worker defines this global before the
 * workflow bundle runs, holding `{ keys: 'kid:base64,...', maxAgeMs }`. It lives in the worker's
 * memory only, never in history.
 */
export const ASSERTION_CONFIG_GLOBAL = '__runbooksAssertionConfig';
export interface AssertionConfig {
  keys: string;
  maxAgeMs: number;
}

/** The name a launch is signed under: the start of that workflow type. */
export function launchAssertionName(workflowType: string): string {
  return `start:${workflowType}`;
}

export interface LaunchCheck {
  update: string;
  /** The run's start arguments (principal and assertion included). */
  args: Record<string, unknown> & { principal?: Principal; assertion?: CallerAssertion; scheduleId?: string };
  /** When the run started: a launch assertion must be fresh then, not when the worker gets to it. */
  startedAt: string;
  /** Fields of the input only some roles may set (the definition's admission.restrictedFields). */
  restricted: { field: string; roles: readonly Role[]; why: string }[];
}

/**
 * Why a launch setting restricted fields is refused, or undefined. A scheduled run's assertion is
 * as old as its schedule's input (the API signs it when the input is set), so only its signature counts.
 */
export function launchRefusal(keys: readonly AssertionKey[], maxAgeMs: number, check: LaunchCheck): string | undefined {
  const fields = check.restricted.map((r) => `input.${r.field}`).join(', ');
  const principal = check.args.principal;
  if (!principal) return `${fields} needs a launch the API vouched for: the start carries no principal`;
  const reason = assertionRefusal(keys, {
    update: check.update,
    args: { ...check.args, principal },
    nowMs: Date.parse(check.startedAt),
    maxAgeMs: check.args.scheduleId ? Number.POSITIVE_INFINITY : maxAgeMs,
  });
  if (reason) return `${fields} needs a launch the API vouched for: ${reason}`;
  for (const { field, roles, why } of check.restricted) {
    if (!roles.some((role) => hasRole(principal, role))) {
      return `input.${field}: only ${roles.join(' or ')} may ${why} (${principal.id} has ${principal.roles.join(', ')})`;
    }
  }
  return undefined;
}

/**
 * A run starting another runbook as its child on its launcher's behalf (software-conflict starts
 * software-fix over the fleet): the child's start arguments, signed as the API signs a launch.
 */
export interface ChildLaunchRequest {
  /** The parent's workflow type and launch credential, as the parent computed them from its own start arguments. */
  parentWorkflowType: string;
  launch: LaunchCredential;
  /** The principal the parent's start arguments name: the child's when the worker holds no keys (then nothing is signed anywhere). */
  principal?: Principal;
  /** The child's workflow type and start arguments, less principal and assertion. */
  workflowType: string;
  args: Record<string, unknown>;
}

/**
 * The child's start arguments with the parent's launcher as principal and, with keys, the worker's
 * signature of them under `start:<child type>`: signed only when the parent's own launch is one
 * the API vouched for (launchCredentialRefusal), so the child carries no more authority than the
 * person who launched the parent, and a run started around the API cannot mint a signed child.
 */
export function signChildLaunch(
  keys: readonly AssertionKey[] | undefined,
  maxAgeMs: number,
  request: ChildLaunchRequest,
  now: Date,
): { args: Record<string, unknown>; refusal?: undefined } | { refusal: string; args?: undefined } {
  if (!keys || keys.length === 0) return { args: request.principal ? { ...request.args, principal: request.principal } : request.args };
  const vouched = request.launch.assertion;
  const refusal = launchCredentialRefusal(keys, maxAgeMs, request.parentWorkflowType, request.launch);
  if (refusal || !vouched) return { refusal: refusal ?? "the run's launch carries no assertion" };
  const sent = { ...request.args, assertion: undefined, principal: vouched.principal };
  return { args: { ...sent, assertion: signAssertion(keys[0], launchAssertionName(request.workflowType), vouched.principal, sent, now) } };
}

/** The local activities the worker adds for launches: the launch check and signing a child's launch (apps/worker create-worker.ts). */
export interface LaunchAssertionActivities {
  verifyLaunchAssertion(check: LaunchCheck): Promise<{ checked: boolean; refusal?: string }>;
  signChildLaunch(request: ChildLaunchRequest): Promise<{ args?: Record<string, unknown>; refusal?: string }>;
}
