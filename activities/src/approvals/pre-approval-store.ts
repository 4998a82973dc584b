import { preApprovalSchema, type PreApproval } from '@runbooks/contracts';
import type { PreApprovalRow, Store } from '@runbooks/store';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { LegacyJsonImport } from '../files/legacy-json-import';

const legacyFileSchema = z.object({ preApprovals: z.array(preApprovalSchema) });
type LegacyFile = z.infer<typeof legacyFileSchema>;

export interface ClaimPreApprovalsInput {
  scheduleId: string;
  gateId: string;
  /** The fire time of the run that reached the gate. */
  fireTime: string;
  /** The input hash of that run. */
  inputSha256: string;
  runId: string;
}

export interface ClaimPreApprovalsResult {
  /** Pre-approvals this run used, one per approver. */
  approvals: PreApproval[];
  /** Pre-approvals this run found void because the schedule's input changed since. */
  voided: PreApproval[];
}

/**
 * Approvals given ahead for scheduled runs, in the store: the API adds them, the worker claims
 * them. Each is used once, ever: the first run of its schedule (or the run of its fire time)
 * claims it with one conditional update (`... WHERE consumed_by IS NULL`), so two workers racing
 * for it cannot both win. Claims are idempotent by run id, so a retried activity gets the same answer.
 */
export class PreApprovalStore {
  private readonly legacy: LegacyJsonImport<LegacyFile>;

  /** `legacyFile`: today's `pre-approvals.json`, imported into the store once, on first use. */
  constructor(
    private readonly store: Store,
    legacyFile?: string,
  ) {
    this.legacy = new LegacyJsonImport(store, legacyFile, {
      kind: 'pre-approvals',
      parse: (json) => legacyFileSchema.parse(json),
      notJson: (what, message) => new Error(`${what} is ${message}`),
      write: async ({ preApprovals }, trx) => {
        for (const p of preApprovals) {
          await store.preApprovals.add(toRow(p), trx);
          if (p.consumedBy) await store.preApprovals.claim(p.id, p.consumedBy, p.voidedBecause ?? null, trx);
        }
      },
    });
  }

  async list(scheduleId?: string): Promise<PreApproval[]> {
    await this.legacy.run();
    return (await this.store.preApprovals.list({ scheduleId })).map(toPreApproval);
  }

  async add(entry: Omit<PreApproval, 'id' | 'at' | 'consumedBy' | 'voidedBecause'>): Promise<PreApproval> {
    await this.legacy.run();
    const created = preApprovalSchema.parse({ ...entry, id: randomUUID(), at: new Date().toISOString() });
    await this.store.preApprovals.add(toRow(created));
    return created;
  }

  /** `unverified`: why a pre-approval may not be counted (its signature), or undefined; such a one is claimed as void. */
  async claim(
    input: ClaimPreApprovalsInput,
    unverified: (p: PreApproval) => string | undefined = () => undefined,
  ): Promise<ClaimPreApprovalsResult> {
    await this.legacy.run();
    const repo = this.store.preApprovals;
    const mine = async () => (await repo.list({ consumedBy: input.runId, gateId: input.gateId })).map(toPreApproval);
    let already = await mine();
    if (already.length === 0) {
      // Temporal records a scheduled fire time in whole seconds.
      const fireTime = wholeSeconds(Date.parse(input.fireTime));
      const due = (await repo.list({ scheduleId: input.scheduleId, gateId: input.gateId, open: true }))
        .map(toPreApproval)
        .filter((p) => (p.fireTime ? wholeSeconds(Date.parse(p.fireTime)) === fireTime : wholeSeconds(Date.parse(p.at)) <= fireTime));
      for (const p of due) {
        const voidedBecause =
          p.inputSha256 !== input.inputSha256 ? 'the schedule input changed after it was given' : (unverified(p) ?? null);
        if (await repo.claim(p.id, input.runId, voidedBecause)) {
          // A decision the run made on the approver's behalf: in the audit log with the operators' actions.
          await this.store.audit.append({
            actor: 'system',
            action: voidedBecause ? 'preApproval.void' : 'preApproval.use',
            target: input.runId,
            detail: {
              preApprovalId: p.id,
              scheduleId: p.scheduleId,
              gateId: p.gateId,
              by: p.by,
              ...(voidedBecause ? { voidedBecause } : {}),
            },
          });
        }
      }
      // What this run holds now: the ones it won, plus any a previous attempt of it won.
      already = await mine();
    }
    const approvals = new Map<string, PreApproval>();
    for (const p of already.filter((p) => !p.voidedBecause)) if (!approvals.has(p.by)) approvals.set(p.by, p);
    return { approvals: [...approvals.values()], voided: already.filter((p) => p.voidedBecause) };
  }
}

function toRow(p: PreApproval): Omit<PreApprovalRow, 'consumedBy' | 'voidedBecause'> {
  // Whether and by whom it was used lives in its own columns, changed by the atomic claim.
  const given: Partial<PreApproval> = { ...p };
  delete given.consumedBy;
  delete given.voidedBecause;
  return { id: p.id, scheduleId: p.scheduleId, gateId: p.gateId, at: p.at, body: JSON.stringify(given) };
}

function toPreApproval(row: PreApprovalRow): PreApproval {
  const given = JSON.parse(row.body) as PreApproval;
  return {
    ...given,
    ...(row.consumedBy ? { consumedBy: row.consumedBy } : {}),
    ...(row.voidedBecause ? { voidedBecause: row.voidedBecause } : {}),
  };
}

function wholeSeconds(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}
