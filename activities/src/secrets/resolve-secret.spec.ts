import { ApplicationFailure } from '@temporalio/common';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveSecret, SECRET_UNAVAILABLE } from './resolve-secret';

const VARIABLE = 'RUNBOOKS_TEST_SECRET';
const VALUE = 'Zebra-secret-value-91c2';

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  expect(error).toMatchObject({ type: SECRET_UNAVAILABLE, nonRetryable: true });
  return error as ApplicationFailure;
}

describe('resolveSecret', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'secrets-'));
  });
  afterEach(() => {
    delete process.env[VARIABLE];
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads an env: reference from the environment', async () => {
    process.env[VARIABLE] = VALUE;

    await expect(resolveSecret(`env:${VARIABLE}`)).resolves.toBe(VALUE);
  });

  it('reads a file: reference, dropping one trailing newline', async () => {
    const file = path.join(dir, 'password');
    writeFileSync(file, `${VALUE}\n`);

    await expect(resolveSecret(`file:${file}`)).resolves.toBe(VALUE);
  });

  it('names a missing variable in a non-retryable error that holds no secret value', async () => {
    process.env.RUNBOOKS_TEST_OTHER_SECRET = VALUE;
    try {
      const failure = await failureOf(resolveSecret(`env:${VARIABLE}`));

      expect(failure.message).toContain(VARIABLE);
      expect(JSON.stringify({ message: failure.message, details: failure.details })).not.toContain(VALUE);
    } finally {
      delete process.env.RUNBOOKS_TEST_OTHER_SECRET;
    }
  });

  it('names an unreadable file in the error', async () => {
    const file = path.join(dir, 'absent');

    const failure = await failureOf(resolveSecret(`file:${file}`));

    expect(failure.message).toContain(file);
    expect(failure.message).toContain('ENOENT');
  });

  it('does not echo a malformed reference, which may be a pasted secret', async () => {
    const failure = await failureOf(resolveSecret(VALUE));

    expect(failure.message).toMatch(/malformed/);
    expect(failure.message).not.toContain(VALUE);
  });
});
