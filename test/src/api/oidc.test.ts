import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { auth, startTestApi, type TestApi } from './app';

/**
 * Single sign-on: the API verifies people's OpenID Connect tokens against the issuer's JWKS,
 * served here by a real HTTP server on loopback, with tokens this test signs.
 */
const ISSUER = 'https://sso.example.test/realms/it';
const AUDIENCE = 'runbooks-api';
const KID = 'test-key-1';

let api: TestApi;
let jwksServer: http.Server;
let jwksRequests = 0;
let signingKey: KeyLike;
let otherKey: KeyLike;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  jwksServer = http.createServer((req, res) => {
    jwksRequests += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/realms/it/protocol/openid-connect/certs`;

  // The API reads its single sign-on settings from the environment (jest gives each file its own copy).
  Object.assign(process.env, {
    RUNBOOKS_OIDC_ISSUER: ISSUER,
    RUNBOOKS_OIDC_AUDIENCE: AUDIENCE,
    RUNBOOKS_OIDC_JWKS_URL: jwksUrl,
    RUNBOOKS_OIDC_ROLES_CLAIM: 'realm_access.roles',
    RUNBOOKS_OIDC_GROUP_ROLES: JSON.stringify({ 'it-oncall': ['approver'], 'it-admins': ['admin'] }),
  });
  api = await startTestApi();
});
afterAll(async () => {
  await api?.app.close();
  await new Promise<void>((resolve) => (jwksServer ? jwksServer.close(() => resolve()) : resolve()));
  for (const name of Object.keys(process.env)) if (name.startsWith('RUNBOOKS_OIDC_')) delete process.env[name];
});

interface TokenOptions {
  claims?: Record<string, unknown>;
  issuer?: string;
  audience?: string;
  expiresAt?: number;
  key?: KeyLike;
}

/** A token as the issuer would sign it, for user `erin` unless told otherwise. */
function token({ claims = {}, issuer = ISSUER, audience = AUDIENCE, expiresAt, key = signingKey }: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ preferred_username: 'erin', name: 'Erin Oncall', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT' })
    .setSubject('9d5c2f0e-erin')
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt(now - 60)
    .setExpirationTime(expiresAt ?? now + 300)
    .sign(key);
}

const bearer = (jwt: string) => ({ Authorization: `Bearer ${jwt}` });

describe('OpenID Connect sign-in', () => {
  it('accepts a valid token and takes the roles from the roles claim', async () => {
    const jwt = await token({ claims: { realm_access: { roles: ['technician', 'offline_access'] } } });
    await request(api.server).get('/v1/runbooks').set(bearer(jwt)).expect(200);
    // Technician: past the guard, so the launch is judged on its body (400), not refused (403).
    const launch = await request(api.server).post('/v1/runs').set(bearer(jwt)).send({ runbook: 'data-restore', input: {} }).expect(400);
    expect(launch.body.issues.map((i: { path: string }) => i.path)).toContain('input.repository');
    expect(jwksRequests).toBeGreaterThan(0);
  });

  it('maps groups to roles: an on-call member is an approver and nothing more', async () => {
    const jwt = await token({ claims: { groups: ['it-oncall', 'staff'] } });
    const refused = await request(api.server).post('/v1/runs').set(bearer(jwt)).send({ runbook: 'data-restore', input: {} }).expect(403);
    expect(refused.body.message).toBe('erin may not launch a run: that needs the role technician or admin (erin has approver)');
    await request(api.server).get('/v1/approvals').set(bearer(jwt)).expect(200);
  });

  it.each([
    ['expired', { expiresAt: Math.floor(Date.now() / 1000) - 3600 }, /has expired/],
    ['for another audience', { audience: 'another-app' }, /wrong or missing audience/],
    ['from another issuer', { issuer: 'https://evil.example.test/realms/it' }, /wrong or missing issuer/],
    ['signed with a key the issuer does not hold', { key: 'other' as const }, /bad signature/],
  ])('refuses a token %s with 401', async (_what, options, message) => {
    const { key, ...rest } = options as TokenOptions & { key?: 'other' };
    const jwt = await token({ ...rest, claims: { groups: ['it-admins'] }, ...(key ? { key: otherKey } : {}) });
    const res = await request(api.server).get('/v1/runbooks').set(bearer(jwt)).expect(401);
    expect(res.body).toMatchObject({ statusCode: 401, message: expect.stringMatching(message) });
    expect(res.headers['www-authenticate']).toBe('Bearer realm="runbooks"');
  });

  it('refuses a tampered token: the payload changed after signing', async () => {
    const jwt = await token({ claims: { groups: ['it-oncall'] } });
    const [header, , signature] = jwt.split('.');
    const forged = Buffer.from(
      JSON.stringify({ preferred_username: 'erin', groups: ['it-admins'], iss: ISSUER, aud: AUDIENCE, exp: 9999999999 }),
    ).toString('base64url');
    const res = await request(api.server)
      .get('/v1/runbooks')
      .set(bearer(`${header}.${forged}.${signature}`))
      .expect(401);
    expect(res.body.message).toMatch(/bad signature/);
  });

  it('refuses a signed-in person who holds no runbooks role', async () => {
    const jwt = await token({ claims: { groups: ['staff'] } });
    const res = await request(api.server).get('/v1/runbooks').set(bearer(jwt)).expect(401);
    expect(res.body.message).toBe("erin is signed in but holds no runbooks role (no role in the token's claims or groups)");
  });

  it("answers 503, not 401, while the issuer's keys cannot be fetched", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/certs`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const jwksUrl = process.env.RUNBOOKS_OIDC_JWKS_URL;
    process.env.RUNBOOKS_OIDC_JWKS_URL = deadUrl;
    const unreachable = await startTestApi();
    process.env.RUNBOOKS_OIDC_JWKS_URL = jwksUrl;
    try {
      const res = await request(unreachable.server)
        .get('/v1/runbooks')
        .set(bearer(await token({ claims: { groups: ['it-oncall'] } })))
        .expect(503);
      expect(res.body.message).toMatch(/keys \(JWKS\) cannot be fetched/);
    } finally {
      await unreachable.app.close();
    }
  });

  it("lets an admin signed in through it set the roles of the service principal of the same id (its own roles are the JWT's)", async () => {
    const jwt = await token({ claims: { groups: ['it-admins'] } });
    const res = await request(api.server)
      .post('/v1/admin/tokens')
      .set(bearer(jwt))
      .send({ principalId: 'erin', label: 'service erin', principal: { displayName: 'Erin (service)', roles: ['technician'] } })
      .expect(201);
    expect(res.body.principal.roles).toEqual(['technician']);
    await request(api.server).get('/v1/admin/tokens').set(bearer(jwt)).expect(200);
  });

  it('keeps the service tokens of the principals file working beside it', async () => {
    await request(api.server).get('/v1/runbooks').set(auth('tess')).expect(200);
    await request(api.server).get('/v1/runbooks').set(bearer('not-a-known-token')).expect(401);
  });
});
