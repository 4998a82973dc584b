import type { ConflictEvidence, ConflictFix, KnowledgeBaseArticle, Patch, SandboxTrial } from '@runbooks/contracts';
import type { RestoreHostSnapshotResult } from './types';

/** The activities of the software-conflict runbook (hosts/conflict-activities.ts). */
export interface SoftwareConflictActivities {
  /** Identify: installed versions, candidates, dpkg's changes in the window, listening ports, logs. */
  collectConflictEvidence(input: CollectConflictEvidenceInput): Promise<ConflictEvidence>;
  /** Runs the reproduction on the host, or in its sandbox. */
  runReproduction(input: RunReproductionInput): Promise<ReproductionResult>;
  createSandbox(input: CreateSandboxInput): Promise<CreateSandboxResult>;
  /** Applies one fix to a copy of the sandbox and runs the reproduction there. */
  trySandboxFix(input: TrySandboxFixInput): Promise<SandboxTrial>;
  discardSandbox(input: { host: string; sandboxId: string }): Promise<void>;
  /** Applies the fix to the host itself, once per key. */
  applyConflictFix(input: ApplyConflictFixInput): Promise<ApplyConflictFixResult>;
  /** Releases the fix's hold and puts the snapshot's versions back. */
  undoConflictFix(input: UndoConflictFixInput): Promise<RestoreHostSnapshotResult>;
  writeKnowledgeBaseArticle(input: WriteKnowledgeBaseArticleInput): Promise<{ id: string; createdAt: string }>;
}

export interface CollectConflictEvidenceInput {
  host: string;
  /** The window around the report (ISO 8601). */
  since: string;
  until: string;
  /** The packages the problem involves: their candidates are read too. */
  packages: string[];
}

/**
 * Which reproduction to run: a catalogue name, resolved to its command just before it runs.
 * `command` is what runs launched before the catalogue carried (input.reproduce): no longer run.
 */
export type ReproductionRef = { reproduction: string; command?: undefined } | { command: string; reproduction?: undefined };

export type RunReproductionInput = ReproductionRef & {
  host: string;
  /** Run in this sandbox; omitted: on the host itself. */
  sandboxId?: string;
};
/** The catalogued reproduction as it ran: its name, the catalogue revision that last changed it, its command. */
export interface RanReproduction {
  name: string;
  revision: number;
  command: string;
}
export interface ReproductionResult {
  /** Exit 0: the problem does not show. */
  passes: boolean;
  exitCode: number;
  /** The end of what it printed. */
  output: string;
  /** What ran (absent in runs launched before the catalogue). */
  ran?: RanReproduction;
}

export interface CreateSandboxInput {
  host: string;
  /** 16 hex digits, chosen by the run (it names the sandbox's folder); a retry rebuilds the same sandbox. */
  sandboxId: string;
  /** The packages at the host's versions. */
  packages: Patch[];
}
export interface CreateSandboxResult {
  sandboxId: string;
  /** Where it is on the host, relative to the host's package root. */
  dir: string;
}

export type TrySandboxFixInput = ReproductionRef & {
  host: string;
  sandboxId: string;
  /** The trial's number (names its copy of the sandbox). */
  trial: number;
  fix: ConflictFix;
};

export interface ApplyConflictFixInput {
  host: string;
  fix: ConflictFix;
  idempotencyKey: string;
}
export interface ApplyConflictFixResult {
  package: string;
  /** The version before the fix, where the driver reports it (the lab does; null: was not installed). */
  from?: string | null;
  /** The package's version after the fix (null: removed). */
  version: string | null;
}

export interface UndoConflictFixInput {
  host: string;
  fix: ConflictFix;
  /** The snapshot taken before the fix (snapshotHost with the fix's package). */
  snapshotId: string;
  idempotencyKey: string;
}

export interface WriteKnowledgeBaseArticleInput {
  /** The article's id derives from it: one article per run. */
  idempotencyKey: string;
  article: Omit<KnowledgeBaseArticle, 'id' | 'createdAt'>;
}
