import { storeCredentialLink } from '@runbooks/activities';
import { AccountsRepository } from '@runbooks/store';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { startTestApi, type TestApi } from '../api/app';

let api: TestApi;
let accounts: AccountsRepository;

beforeAll(async () => {
  api = await startTestApi();
  accounts = new AccountsRepository(api.store);
});
afterAll(async () => {
  await api?.app.close();
});

async function link(expiresInMs: number): Promise<string> {
  const credentials = {
    username: 'alovelace',
    password: 'Initial-pass-Zq7-canary',
    otpauthUri: 'otpauth://totp/Example:alovelace?secret=JBSWY3DPEHPK3PXP',
  };
  const { linkId, token } = await storeCredentialLink(accounts, randomBytes(32), { runId: 'account-joiner-test', credentials });
  await accounts.openLink(linkId, new Date(Date.now() + expiresInMs).toISOString());
  return token;
}

const redeem = (body: unknown) =>
  request(api.server)
    .post('/v1/credential-links/redeem')
    .send(body as object);

describe('POST /v1/credential-links/redeem', () => {
  test('gives the credentials once without a login; the second call is a 410', async () => {
    const token = await link(60_000);

    const first = await redeem({ token }).expect(200);
    expect(first.body).toEqual({
      username: 'alovelace',
      password: 'Initial-pass-Zq7-canary',
      otpauthUri: 'otpauth://totp/Example:alovelace?secret=JBSWY3DPEHPK3PXP',
    });
    const second = await redeem({ token }).expect(410);
    expect(second.body.message).toContain('used already');
    expect(JSON.stringify(second.body)).not.toContain('Initial-pass');
  });

  test('single use holds when many redeem at once: exactly one gets the credentials', async () => {
    const token = await link(60_000);
    const answers = await Promise.all(Array.from({ length: 8 }, () => redeem({ token })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 410, 410, 410, 410, 410, 410, 410]);
  });

  test('an expired link, an unknown token and a malformed one are refused', async () => {
    const expired = await link(-1000);
    expect((await redeem({ token: expired }).expect(410)).body.message).toContain('expired');
    await redeem({ token: randomBytes(32).toString('base64url') }).expect(404);
    const malformed = await redeem({ token: 'short' }).expect(400);
    expect(JSON.stringify(malformed.body)).toContain('token');
    await redeem({ token: randomBytes(32).toString('base64url'), extra: 1 }).expect(400);
  });
});
