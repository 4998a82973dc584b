import { createHash, createHmac, randomBytes } from 'node:crypto';
import {
  argsDigest,
  assertionRefusal,
  launchAssertionName,
  launchCredentialRefusal,
  parseAssertionKeys,
  signAssertion,
  signChildLaunch,
  type AssertionKey,
} from './assertion';
import type { Principal } from './principal';
import { fromBase64, hmacSha256, sha256, toBase64, toHex, utf8 } from './sha256';

const gus: Principal = { id: 'gus', displayName: 'Gus Second-Line', roles: ['tier2'] };

describe('the plain SHA-256 and HMAC the workflow sandbox verifies with', () => {
  test.each([0, 1, 55, 56, 63, 64, 65, 119, 1000])('sha256 and hmac of %i bytes equal node:crypto', (length) => {
    const data = randomBytes(length);
    const key = randomBytes(length % 2 === 0 ? 32 : 100); // keys longer than a block are hashed first
    expect(toHex(sha256(data))).toBe(createHash('sha256').update(data).digest('hex'));
    expect(toBase64(hmacSha256(key, data))).toBe(createHmac('sha256', key).update(data).digest('base64'));
  });

  test('utf8 and base64 agree with Buffer', () => {
    const text = 'Zoë 🔑 Łódź';
    expect(Buffer.from(utf8(text)).toString('utf8')).toBe(text);
    const bytes = randomBytes(47);
    expect(toBase64(bytes)).toBe(bytes.toString('base64'));
    expect(Buffer.from(fromBase64(bytes.toString('base64'))!)).toEqual(bytes);
    expect(fromBase64('not base64!')).toBeUndefined();
  });
});

describe('caller assertions', () => {
  const [current, previous] = parseAssertionKeys(`k2:${randomBytes(32).toString('base64')},k1:${randomBytes(32).toString('base64')}`);
  const args = { taskId: 'swap-disk', principal: gus };
  const now = Date.parse('2026-11-30T12:00:00Z');
  const check = (keys: AssertionKey[], sent: Record<string, unknown>, nowMs = now) =>
    assertionRefusal(keys, { update: 'claimTask', args: sent as typeof args, nowMs, maxAgeMs: 300_000 });

  test('one the API signed verifies, under the newest key and under an older key still listed', () => {
    expect(
      check([current, previous], { ...args, assertion: signAssertion(current, 'claimTask', gus, args, new Date(now)) }),
    ).toBeUndefined();
    expect(
      check([current, previous], { ...args, assertion: signAssertion(previous, 'claimTask', gus, args, new Date(now)) }),
    ).toBeUndefined();
  });

  test('refuses none, an unknown key, a forged principal, other arguments, another update, a stale one', () => {
    const signed = signAssertion(current, 'claimTask', gus, args, new Date(now));
    expect(check([current], args)).toMatch(/carries no signed assertion/);
    expect(check([previous], { ...args, assertion: signed })).toMatch(/key k2, which this worker does not know/);
    const hana: Principal = { id: 'hana', displayName: 'Hana', roles: ['tier3'] };
    expect(check([current], { ...args, principal: hana, assertion: signed })).toMatch(
      /principal in the request \(hana\) is not the one the API vouched for \(gus\)/,
    );
    expect(check([current], { ...args, principal: { ...gus, roles: ['admin'] }, assertion: signed })).toMatch(
      /not the one the API vouched for/,
    );
    expect(check([current], { ...args, taskId: 'other', assertion: signed })).toMatch(/signed for other arguments/);
    expect(check([current], { ...args, assertion: { ...signed, update: 'completeTask' } })).toMatch(/signature is wrong/);
    expect(check([current], { ...args, assertion: signAssertion(current, 'completeTask', gus, args, new Date(now)) })).toMatch(
      /is for completeTask, not claimTask/,
    );
    expect(check([current], { ...args, assertion: signed }, now + 301_000)).toMatch(/stale: issued 301 s ago, at most 300 s/);
    expect(check([current], { ...args, assertion: signed }, now - 120_000)).toMatch(/dated in the future/);
  });

  test('the digest leaves out the assertion and the order of keys', () => {
    expect(argsDigest({ b: 1, a: 2, assertion: { x: 1 } })).toBe(argsDigest({ a: 2, b: 1 }));
  });

  test('a malformed or short key is refused when configured', () => {
    expect(() => parseAssertionKeys('k1:short')).toThrow(/at least 32 bytes/);
    expect(() => parseAssertionKeys(`:${randomBytes(32).toString('base64')}`)).toThrow(/kid:base64/);
  });
});

describe("a run's launch credential, as the worker checks it before resolving a secret", () => {
  const [key] = parseAssertionKeys(`k1:${randomBytes(32).toString('base64')}`);
  const startArgs = { input: { target: '/srv/projects' }, requestedBy: { id: 'gus', displayName: gus.displayName }, principal: gus };
  const startedAt = '2026-11-30T12:00:05Z';
  const signed = signAssertion(key, launchAssertionName('dataRestore'), gus, startArgs, new Date('2026-11-30T12:00:00Z'));
  const credential = { assertion: signed, startArgsSha256: argsDigest(startArgs), startedAt, scheduled: false };
  const refusal = (changes: Partial<typeof credential>, workflowType = 'dataRestore') =>
    launchCredentialRefusal([key], 60_000, workflowType, { ...credential, ...changes });

  test('accepts the launch the API signed for these start arguments', () => {
    expect(refusal({})).toBeUndefined();
  });

  test('refuses a run started without the API, one signed for other arguments or another runbook, and a stale one', () => {
    expect(refusal({ assertion: undefined })).toMatch(/not vouched for by the API: .*no signed assertion/);
    expect(refusal({ startArgsSha256: argsDigest({ ...startArgs, input: { target: '/etc' } }) })).toMatch(/signed for another launch/);
    expect(refusal({}, 'restoreDrill')).toMatch(/is for start:dataRestore, not start:restoreDrill/);
    expect(refusal({ assertion: { ...signed, principal: { ...gus, roles: ['admin'] } } })).toMatch(/signature is wrong/);
    expect(refusal({ startedAt: '2026-11-30T13:00:00Z' })).toMatch(/not fresh when the run started: .*stale/);
    expect(refusal({ startedAt: '2026-11-30T13:00:00Z', scheduled: true })).toBeUndefined(); // a schedule's assertion is as old as its input
  });
});

describe("a child run's launch, signed by the worker on behalf of the parent's launcher", () => {
  const [key] = parseAssertionKeys(`k1:${randomBytes(32).toString('base64')}`);
  const parentArgs = { input: { host: 'desk-01' }, requestedBy: { id: 'gus', displayName: gus.displayName }, principal: gus };
  const signed = signAssertion(key, launchAssertionName('softwareConflict'), gus, parentArgs, new Date('2026-11-30T12:00:00Z'));
  const launch = { assertion: signed, startArgsSha256: argsDigest(parentArgs), startedAt: '2026-11-30T12:00:01Z', scheduled: false };
  const childArgs = { input: { targets: { tags: ['desk'] } }, requestedBy: parentArgs.requestedBy };
  const request = { parentWorkflowType: 'softwareConflict', launch, principal: gus, workflowType: 'softwareFix', args: childArgs };
  const now = new Date('2026-11-30T14:00:00Z'); // hours later: the fleet step comes after the host's fix

  test("signs the child's start for the launcher the API vouched for, as a launch of the child's type", () => {
    const { args } = signChildLaunch([key], 60_000, request, now);
    expect(args).toMatchObject({ ...childArgs, principal: gus });
    const child = {
      assertion: args?.assertion as never,
      startArgsSha256: argsDigest(args!),
      startedAt: now.toISOString(),
      scheduled: false,
    };
    expect(launchCredentialRefusal([key], 60_000, 'softwareFix', child)).toBeUndefined();
    expect(launchCredentialRefusal([key], 60_000, 'securityPatching', child)).toMatch(/not start:securityPatching/);
  });

  test('signs nothing for a parent the API did not vouch for: forged principal, copied assertion, other arguments', () => {
    const forged = { ...request, launch: { ...launch, assertion: undefined } };
    expect(signChildLaunch([key], 60_000, forged, now).refusal).toMatch(/no signed assertion/);
    const otherInput = { ...request, launch: { ...launch, startArgsSha256: argsDigest({ ...parentArgs, input: { host: 'db-01' } }) } };
    expect(signChildLaunch([key], 60_000, otherInput, now).refusal).toMatch(/signed for another launch/);
    const replayed = { ...request, launch: { ...launch, startedAt: '2026-11-30T13:00:00Z' } };
    expect(signChildLaunch([key], 60_000, replayed, now).refusal).toMatch(/not fresh when the run started/);
    expect(signChildLaunch([key], 60_000, { ...request, parentWorkflowType: 'dataRestore' }, now).refusal).toMatch(/not start:dataRestore/);
  });

  test("without keys (nothing is signed anywhere) the child names the parent's principal, unsigned", () => {
    expect(signChildLaunch(undefined, 60_000, request, now)).toEqual({ args: { ...childArgs, principal: gus } });
  });
});
