import { preApprovalSchema, type PreApproval } from '@runbooks/contracts';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { HostLocks, readIfExists, writeJsonAtomic } from '../hosts/ledger';

const fileSchema = z.object({ preApprovals: z.array(preApprovalSchema) });

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
 * Approvals given ahead for scheduled runs, in a JSON file the API writes and the worker reads.
 * Each is used once: the first run of its schedule (or the run of its fire time) claims it.
 * Claims are idempotent by run id, so a retried activity gets the same answer.
 */
export class PreApprovalStore {
  private readonly lock = new HostLocks();

  constructor(readonly file: string) {}

  async list(scheduleId?: string): Promise<PreApproval[]> {
    const all = (await this.load()).preApprovals;
    return scheduleId ? all.filter((p) => p.scheduleId === scheduleId) : all;
  }

  async add(entry: Omit<PreApproval, 'id' | 'at' | 'consumedBy' | 'voidedBecause'>): Promise<PreApproval> {
    return this.lock.run(this.file, async () => {
      const data = await this.load();
      const created = preApprovalSchema.parse({ ...entry, id: randomUUID(), at: new Date().toISOString() });
      data.preApprovals.push(created);
      await writeJsonAtomic(this.file, data);
      return created;
    });
  }

  async claim(input: ClaimPreApprovalsInput): Promise<ClaimPreApprovalsResult> {
    return this.lock.run(this.file, async () => {
      const data = await this.load();
      // Temporal records a scheduled fire time in whole seconds.
      const fireTime = wholeSeconds(Date.parse(input.fireTime));
      const already = data.preApprovals.filter((p) => p.consumedBy === input.runId && p.gateId === input.gateId);
      if (already.length === 0) {
        const due = data.preApprovals.filter(
          (p) =>
            !p.consumedBy &&
            p.scheduleId === input.scheduleId &&
            p.gateId === input.gateId &&
            (p.fireTime ? wholeSeconds(Date.parse(p.fireTime)) === fireTime : wholeSeconds(Date.parse(p.at)) <= fireTime),
        );
        for (const p of due) {
          p.consumedBy = input.runId;
          if (p.inputSha256 !== input.inputSha256) p.voidedBecause = 'the schedule input changed after it was given';
        }
        if (due.length > 0) await writeJsonAtomic(this.file, data);
        already.push(...due);
      }
      const approvals = new Map<string, PreApproval>();
      for (const p of already.filter((p) => !p.voidedBecause)) if (!approvals.has(p.by)) approvals.set(p.by, p);
      return { approvals: [...approvals.values()], voided: already.filter((p) => p.voidedBecause) };
    });
  }

  private async load(): Promise<z.infer<typeof fileSchema>> {
    const text = await readIfExists(this.file);
    return text ? fileSchema.parse(JSON.parse(text)) : { preApprovals: [] };
  }
}

function wholeSeconds(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}
