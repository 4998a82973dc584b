import { principalSchema, type Principal } from '@runbooks/contracts';
import type { Store } from '@runbooks/store';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const principalEntrySchema = principalSchema.extend({
  /** sha256 of the bearer token, hex; the token itself is never stored. */
  tokenSha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be the sha256 of the token as 64 lowercase hex characters'),
});

const principalListSchema = z
  .array(principalEntrySchema)
  .min(1)
  .superRefine((entries, ctx) => {
    const seenIds = new Set<string>();
    const seenTokens = new Set<string>();
    entries.forEach((e, i) => {
      if (seenIds.has(e.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate principal id ${e.id}` });
      if (seenTokens.has(e.tokenSha256)) {
        ctx.addIssue({ code: 'custom', path: [i, 'tokenSha256'], message: 'two principals share one token' });
      }
      seenIds.add(e.id);
      seenTokens.add(e.tokenSha256);
    });
  });

/** Either a bare array, or `{ demo?, warning?, principals: [...] }` so a demo file can say what it is. */
const principalsFileSchema = z.union([
  principalListSchema,
  z.object({ demo: z.boolean().optional(), warning: z.string().optional(), principals: principalListSchema }).strict(),
]);

/** The hex sha256 of a bearer token: all the store keeps of it. */
export function tokenSha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The people and service accounts the API knows, in the store, looked up by the sha256 of their
 * bearer token on every request (no cache: a token revoked through any replica is refused by
 * every replica at its next request). The principals file is imported once, at the store's
 * first start; afterwards tokens are created and revoked through /v1/admin/tokens.
 */
export class PrincipalDirectory {
  private constructor(
    private readonly store: Store,
    readonly isDemo: boolean,
  ) {}

  /** Reads and validates the file, and imports it into the store unless that file was imported before. */
  static async open(store: Store, file: string): Promise<PrincipalDirectory> {
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (error) {
      throw new Error(`cannot read the principals file ${file}: ${(error as Error).message}`);
    }
    const parsed = principalsFileSchema.safeParse(raw);
    if (!parsed.success) {
      throw new Error(`the principals file ${file} is invalid:\n${z.prettifyError(parsed.error)}`);
    }
    const list = Array.isArray(parsed.data) ? parsed.data : parsed.data.principals;
    const isDemo = !Array.isArray(parsed.data) && parsed.data.demo === true;
    // Once per store, whatever the file: afterwards principals and tokens change through the admin API only.
    await store.importOnce('principals', async (trx) => {
      for (const { tokenSha256: sha, ...principal } of list) {
        await store.principals.putPrincipal(principal.id, JSON.stringify(principal), trx);
        await store.principals.addToken(
          { principalId: principal.id, tokenSha256: sha, label: `imported from ${path.basename(file)}`, createdBy: 'import' },
          trx,
        );
      }
    });
    return new PrincipalDirectory(store, isDemo);
  }

  /** The principal of a live (not revoked) token, and the sha256 it was looked up by (an indexed equality). */
  async authenticate(token: string): Promise<{ principal: Principal; tokenSha256: string } | undefined> {
    const sha256 = tokenSha256(token);
    const body = await this.store.principals.authenticate(sha256);
    return body === undefined ? undefined : { principal: principalSchema.parse(JSON.parse(body)), tokenSha256: sha256 };
  }
}
