import { principalSchema, type Principal } from '@runbooks/contracts';
import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
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

interface PrincipalEntry {
  principal: Principal;
  tokenSha256: Buffer;
}

/** The people and service accounts the API knows, looked up by the sha256 of their bearer token. */
export class PrincipalDirectory {
  private constructor(
    private readonly entries: readonly PrincipalEntry[],
    readonly isDemo: boolean,
  ) {}

  static fromFile(file: string): PrincipalDirectory {
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
    return new PrincipalDirectory(
      list.map(({ tokenSha256, ...principal }) => ({ principal, tokenSha256: Buffer.from(tokenSha256, 'hex') })),
      isDemo,
    );
  }

  /** Compares in constant time against every entry, so timing tells nothing about which one matched. */
  authenticate(token: string): Principal | undefined {
    const digest = createHash('sha256').update(token, 'utf8').digest();
    let found: Principal | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.tokenSha256, digest)) found = entry.principal;
    }
    return found;
  }

  get size(): number {
    return this.entries.length;
  }
}
