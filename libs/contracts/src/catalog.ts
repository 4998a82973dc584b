import { z } from 'zod';
import { accountJoinerInputSchema, accountLeaverInputSchema, accountMoverInputSchema, passwordResetInputSchema } from './accounts';
import { dataRestoreInputSchema, type DataRestoreInput } from './data-restore';
import { diskReplacementInputSchema } from './disk-replacement';
import { hardwareSwapInputSchema, type HardwareSwapInput } from './hardware-swap';
import { powerControlRefusal, type Host, type HostSelector } from './hosts';
import type { Role } from './principal';
import { incidentInputSchema, type IncidentInput } from './incident';
import { restoreDrillInputSchema } from './restore-drill';
import { securityPatchingInputSchema, type SecurityPatchingInput } from './security-patching';
import { softwareConflictRunbook } from './software-conflict';
import { softwareFixInputSchema, type SoftwareFixInput } from './software-fix';

export interface StepDescription {
  id: string;
  title: string;
  /** An approval gate (decided through /approvals, or approved ahead for scheduled runs). */
  approval?: true;
  /** A human task (claimed and completed with evidence through /v1/tasks). */
  task?: true;
}

/**
 * What the API checks before it starts a run or saves a schedule, declared by the runbook so
 * that adding one touches no API service. Each reads the input the runbook's schema parsed.
 */
export interface RunbookAdmission {
  /**
   * Host selectors of the input whose names must be in the inventory (`field` names the input field;
   * `oneHost`: the field is a single host name, not a selector, and a refusal names the field itself).
   */
  hostSelectors?(input: never): { field: string; selector: HostSelector; oneHost?: true }[];
  /** Hosts of the input the run needs something of (power control): `refusal` says why the inventory's entry cannot serve (400 naming the field). */
  hostRequirements?(input: never): { field: string; host: string; refusal: (host: Host) => string | undefined }[];
  /** Fields of this input only some roles may set (e.g. windowOverride: admin). */
  restrictedFields?(input: never): { field: string; roles: readonly Role[]; why: string }[];
  /**
   * Folders the run writes into (`field` names the input field) and the backup repository it
   * restores from: each must be allowed by the stored restore target policy. Directories and file
   * servers (accounts) would declare their bases the same way, checked by a policy of their own.
   */
  restoreTargets?(input: never): { field: string; repository: string; target: string }[];
  /** The incident whose services and locations must be in the incident catalogue (400 naming the field otherwise). */
  incident?(input: never): IncidentInput;
  /**
   * A software-conflict reproduction the input names: it must be in the admin-written catalogue and
   * apply to `host` (400 naming the field otherwise); the worker checks again before it runs it.
   */
  reproduction?(input: never): { field: string; name: string; host: string };
  /** The maintenance window the run waits for, if any. */
  maintenanceWindow?(input: never): { field: string; name?: string; startAt?: string; overridden: boolean } | undefined;
}

/** What the catalog says about a runbook; the workflow file is its executable form. */
export interface RunbookDefinition {
  name: string;
  title: string;
  summary: string;
  /** The Temporal workflow type that runs it. */
  workflowType: string;
  inputSchema: z.ZodType;
  steps: readonly StepDescription[];
  admission?: RunbookAdmission;
}

export const dataRestoreRunbook = {
  name: 'data-restore',
  title: 'Data restore',
  summary:
    'Bring a path back from a restic backup: check the repository can be reached, wait for approval, open it and ' +
    'choose a restore point, restore into staging, verify checksums, swap into place keeping the previous contents, notify the users.',
  workflowType: 'dataRestore',
  inputSchema: dataRestoreInputSchema,
  steps: [
    // Nothing before the approval depends on the password (issue 10): a run awaiting approval
    // looks the same whether the password is right or a guess.
    { id: 'check-repository', title: 'Verify the backup repository can be reached (without its password)' },
    { id: 'approve-restore', title: 'Approval before the repository is opened and the target is touched', approval: true },
    { id: 'open-repository', title: 'Open the repository with its password and check its health' },
    { id: 'choose-restore-point', title: 'Choose a safe restore point' },
    { id: 'restore-to-staging', title: 'Restore into a staging folder with the approved tool (restic)' },
    { id: 'verify-restored-content', title: 'Validate integrity: restic verify, checksums match, every file opens' },
    { id: 'swap-into-target', title: 'Swap the restored content into the target, retaining the previous contents' },
    { id: 'notify-users', title: 'Notify the affected users' },
    { id: 'write-report', title: 'Document the steps and post-checks' },
  ],
  admission: {
    restoreTargets: (input: DataRestoreInput) => [{ field: 'target', repository: input.repository.url, target: input.target }],
  },
} as const satisfies RunbookDefinition;

export const securityPatchingRunbook = {
  name: 'security-patching',
  title: 'Security patching',
  summary:
    'Patch a fleet safely: build the inventory, wait for the maintenance window, patch the canary group, ' +
    'wait for approval, then patch production in waves (snapshot, patch and health-check each host, bake after each wave), ' +
    'stop at the failure threshold, roll back from snapshots, and report host by host. Operators can pause, resume, ' +
    'change concurrency, skip a host or abort while it runs.',
  workflowType: 'securityPatching',
  inputSchema: securityPatchingInputSchema,
  steps: [
    { id: 'build-inventory', title: 'Build the inventory of target systems' },
    { id: 'wait-for-window', title: 'Wait for the maintenance window' },
    { id: 'canary-wave', title: 'Patch the canary (lab) group first: snapshot, patch, health check per host' },
    { id: 'approve-production', title: 'Approval to go on to production', approval: true },
    {
      id: 'production-waves',
      title: 'Patch production in waves: bounded concurrency, health check per host, bake time, failure threshold',
    },
    { id: 'write-report', title: 'Document what was done, host by host' },
  ],
  admission: {
    hostSelectors: (input: SecurityPatchingInput) => [
      { field: 'targets', selector: input.targets },
      { field: 'canary', selector: input.canary },
    ],
    restrictedFields: (input: SecurityPatchingInput) =>
      input.windowOverride
        ? [{ field: 'windowOverride', roles: ['admin'], why: 'run outside the maintenance window or through a change freeze' }]
        : [],
    maintenanceWindow: (input: SecurityPatchingInput) => ({
      field: 'maintenanceWindow',
      name: input.maintenanceWindow,
      startAt: input.startAt,
      overridden: input.windowOverride !== undefined,
    }),
  },
} as const satisfies RunbookDefinition;

export const softwareFixRunbook = {
  name: 'software-fix',
  title: 'Software fix',
  summary:
    'Resolve a software conflict across a fleet: install the fixed version of one package on the canary group, ' +
    'wait for approval, then on production in waves (snapshot, install and health-check each host, bake after each wave), ' +
    'stop at the failure threshold, put the previous version back on failure, and report host by host. ' +
    'Operators steer it like a patch campaign.',
  workflowType: 'softwareFix',
  inputSchema: softwareFixInputSchema,
  steps: [
    { id: 'build-inventory', title: 'Build the inventory of target systems' },
    { id: 'wait-for-window', title: 'Wait for the maintenance window' },
    { id: 'canary-wave', title: 'Try the fix on the canary (lab) group first: snapshot, install, health check per host' },
    { id: 'approve-production', title: 'Approval to go on to production', approval: true },
    { id: 'production-waves', title: 'Fix production in waves: bounded concurrency, health check per host, bake time, failure threshold' },
    { id: 'write-report', title: 'Document the fix, host by host' },
  ],
  admission: {
    hostSelectors: (input: SoftwareFixInput) => [
      { field: 'targets', selector: input.targets },
      { field: 'canary', selector: input.canary },
    ],
    maintenanceWindow: (input: SoftwareFixInput) => ({
      field: 'maintenanceWindow',
      name: input.maintenanceWindow,
      startAt: input.startAt,
      overridden: false,
    }),
  },
} as const satisfies RunbookDefinition;

export const diskReplacementRunbook = {
  name: 'disk-replacement',
  title: 'Disk replacement',
  summary:
    'A technician swaps a failed disk and gives both serial numbers and the rebuild state as evidence. The task starts with ' +
    'the 1st support line and passes to the 2nd and 3rd line each time its SLA ends, notifying them; then the requester is told.',
  workflowType: 'diskReplacement',
  inputSchema: diskReplacementInputSchema,
  steps: [
    { id: 'swap-disk', title: 'Swap the failed disk and record both serial numbers', task: true },
    { id: 'notify-requester', title: 'Tell the requester the disk was replaced' },
    { id: 'write-report', title: 'Document the swap, its evidence and who held the task how long' },
  ],
} as const satisfies RunbookDefinition;

export const hardwareSwapRunbook = {
  name: 'hardware-swap',
  title: 'Hardware swap',
  summary:
    'Replace a faulty component: diagnose (kernel log, SMART, basic tests), back up the user’s data with restic, drain and ' +
    'power down, a technician swaps the part (serials, asset tag and a compatible model as evidence), power on, update ' +
    'drivers, test again, restore the data if the disk was replaced, update the asset register, tell the user. A swap that ' +
    'fails its tests puts the machine back as it was, leaves the register unchanged and escalates.',
  workflowType: 'hardwareSwap',
  inputSchema: hardwareSwapInputSchema,
  steps: [
    { id: 'diagnose', title: 'Diagnose: read the kernel log and SMART, run basic tests' },
    { id: 'backup-user-data', title: 'Back up the user’s data (restic)' },
    { id: 'power-down', title: 'Power down safely: drain, stop services, shut down' },
    { id: 'swap-component', title: 'Swap the faulty component for a compatible part and secure its connections', task: true },
    { id: 'power-on', title: 'Power on' },
    { id: 'update-drivers', title: 'Update drivers' },
    { id: 'test-again', title: 'Test again: the same checks must pass' },
    { id: 'restore-to-staging', title: 'Disk replaced: restore the user’s data into staging (restic)' },
    { id: 'verify-restored-content', title: 'Verify the restored data: checksums match the backup' },
    { id: 'swap-into-target', title: 'Put the restored data in place' },
    { id: 'update-asset-register', title: 'Record the new part in the asset register' },
    { id: 'notify-user', title: 'Tell the user the machine is back' },
    { id: 'write-report', title: 'Document the swap, its evidence and the checks before and after' },
  ],
  admission: {
    hostSelectors: (input: HardwareSwapInput) => [{ field: 'host', selector: { names: [input.host] } }],
    hostRequirements: (input: HardwareSwapInput) => [{ field: 'host', host: input.host, refusal: powerControlRefusal }],
    restoreTargets: (input: HardwareSwapInput) => [
      { field: 'userData.path', repository: input.userData.repository.url, target: input.userData.path },
    ],
  },
} as const satisfies RunbookDefinition;

export const restoreDrillRunbook = {
  name: 'restore-drill',
  title: 'Restore drill',
  summary:
    'Prove a backup restores: restore a named path, or one drawn per run, from the newest snapshot into a scratch folder, ' +
    'verify every checksum against the backup, discard the copy, and record the result and the time to restore. ' +
    'No approval: it changes nothing but its scratch folder, and is meant to run on a schedule.',
  workflowType: 'restoreDrill',
  inputSchema: restoreDrillInputSchema,
  steps: [
    { id: 'check-repository', title: 'Verify the backup repository is reachable and healthy' },
    { id: 'choose-drill-path', title: 'Choose the path and its newest snapshot' },
    { id: 'restore-to-scratch', title: 'Restore into a scratch folder with restic' },
    { id: 'verify-checksums', title: 'Verify every restored file against the backup (sha256)' },
    { id: 'discard-scratch', title: 'Discard the scratch copy' },
    { id: 'write-report', title: 'Record the result and the time to restore' },
  ],
} as const satisfies RunbookDefinition;

export const incidentResponseRunbook = {
  name: 'incident-response',
  title: 'Incident response',
  summary:
    'A network or service outage: resolve who and what is affected, probe from each location (ping, traceroute, the ' +
    "gateway's neighbour entry, ports, DNS per resolver, HTTP) into findings, read the logs, conclude on ISP and DNS, " +
    'let a person choose failover or rollback (escalating through the support tiers on the SLA), approve it by severity, ' +
    'apply it undoably, verify by diagnosing again, tell the stakeholders, and leave a timeline and a post-incident review draft.',
  workflowType: 'incidentResponse',
  inputSchema: incidentInputSchema,
  steps: [
    { id: 'scope', title: 'Identify the scope: affected users, services, locations, and the devices on the path' },
    { id: 'notify-start', title: 'Tell the stakeholders the incident is open' },
    { id: 'diagnose', title: 'Run the checks from each location: ping, traceroute, neighbour, ports, DNS, HTTP' },
    { id: 'read-logs', title: 'Read the logs of the implicated hosts around the start' },
    { id: 'conclude-isp-dns', title: 'Verify ISP and DNS' },
    { id: 'approve-containment', title: 'Security incidents: approval to isolate the suspected hosts', approval: true },
    { id: 'contain', title: 'Security incidents: isolate the suspected hosts (undoable)' },
    { id: 'choose-remediation', title: 'Choose failover or rollback from the findings', task: true },
    { id: 'approve-remediation', title: 'Approval of the change, by severity', approval: true },
    { id: 'remediate', title: 'Fail over or roll back (undoable)' },
    { id: 'notify-remediation', title: 'Tell the stakeholders what was changed' },
    { id: 'verify', title: 'Diagnose again: no finding may stand' },
    { id: 'notify-resolution', title: 'Tell the stakeholders it is resolved' },
    { id: 'write-report', title: 'Timeline and post-incident review draft' },
  ],
  admission: { incident: (input: IncidentInput) => input },
} as const satisfies RunbookDefinition;

export const accountJoinerRunbook = {
  name: 'account-joiner',
  title: 'Account joiner',
  summary:
    "Make a new starter's account on the start date: a unique username, an approval when the role carries privileged groups, " +
    'the directory entry with the next free uidNumber, a strong initial password (change at first login) and a TOTP enrolment ' +
    "handed over once through an expiring single-use link, the role's groups and application permissions, a home drive on the " +
    'file server, a mailbox with a welcome message, and a test of the access; every step undone if a later one fails.',
  workflowType: 'accountJoiner',
  inputSchema: accountJoinerInputSchema,
  steps: [
    { id: 'wait-for-start-date', title: 'Wait for the start date' },
    { id: 'choose-username', title: 'Choose a unique username' },
    { id: 'approve-privileged-role', title: 'Approval when the role carries privileged groups', approval: true },
    { id: 'create-entry', title: 'Create the directory entry (posixAccount, inetOrgPerson) with the next free uidNumber' },
    { id: 'issue-credentials', title: 'Set a strong initial password (change at first login) and enrol TOTP' },
    { id: 'grant-role-access', title: "Add the role's groups and application permissions" },
    { id: 'create-home-drive', title: 'Create the home drive on the file server (owner, mode 0700, group ACLs)' },
    { id: 'set-up-mailbox', title: 'Set the mail address, create the Maildir, send the welcome message' },
    { id: 'test-access', title: 'Test access: bind, groups, a TOTP code, the home drive writable by the user only' },
    { id: 'deliver-credentials', title: 'Send the one-time link to the password and MFA enrolment' },
    { id: 'write-report', title: 'Document the settings (never a secret)' },
  ],
} as const satisfies RunbookDefinition;

export const passwordResetRunbook = {
  name: 'password-reset',
  title: 'Password reset',
  summary:
    'The 1st line verifies the caller and records how; then a temporary password (change at first login) is set, a lockout ' +
    'cleared, and the password handed over once through an expiring single-use link; the account holder is told by mail. ' +
    'A TOTP reset (lost phone) waits for an approver and re-enrols through the same link.',
  workflowType: 'passwordReset',
  inputSchema: passwordResetInputSchema,
  steps: [
    { id: 'verify-identity', title: "Verify the caller's identity and record how", task: true },
    { id: 'approve-mfa-reset', title: 'Approval of a TOTP reset', approval: true },
    { id: 'reset-password', title: 'Set a temporary password (change at first login), clear the lockout, re-enrol TOTP if asked' },
    { id: 'deliver-credentials', title: 'Send the one-time link to the temporary password' },
    { id: 'notify-account-holder', title: 'Tell the account holder their password was reset' },
    { id: 'write-report', title: 'Document the reset and the identity check (never a secret)' },
  ],
} as const satisfies RunbookDefinition;

export const accountLeaverRunbook = {
  name: 'account-leaver',
  title: 'Account leaver',
  summary:
    "End a leaver's access on the last day (or now, for a dismissal, after an approval): lock the account, void MFA and " +
    'credential links, remove every group and application permission, archive the home drive (tar + sha256) and remove it, ' +
    'forward mail to the manager for a set period, then delete the account after the retention period (a durable, cancellable wait). ' +
    'The report lists every access removed; the last step checks that nothing is left.',
  workflowType: 'accountLeaver',
  inputSchema: accountLeaverInputSchema,
  steps: [
    { id: 'wait-for-last-day', title: 'Wait for the last day' },
    { id: 'approve-dismissal', title: 'Approval of a dismissal (access ends now)', approval: true },
    { id: 'lock-account', title: 'Lock the account, void its MFA secret and credential links' },
    { id: 'remove-access', title: 'Remove every group and application permission' },
    { id: 'archive-home-drive', title: 'Archive the home drive (tar + sha256) and remove it' },
    { id: 'forward-mail', title: 'Forward mail to the manager' },
    { id: 'wait-retention', title: 'Keep the locked account through the retention period (stop forwarding when its period ends)' },
    { id: 'delete-account', title: 'Delete the account and its Maildir, and check nothing is left' },
    { id: 'write-report', title: 'List every access removed' },
  ],
} as const satisfies RunbookDefinition;

export const accountMoverRunbook = {
  name: 'account-mover',
  title: 'Account mover',
  summary:
    'Move a person to another role: the groups and application permissions to add and to remove are computed from both roles ' +
    'and what the person holds, shown to the approver, and applied with an undo that puts the old access back if a step fails.',
  workflowType: 'accountMover',
  inputSchema: accountMoverInputSchema,
  steps: [
    { id: 'plan-move', title: 'Compute the group and permission changes' },
    { id: 'approve-move', title: 'Approval of the changes', approval: true },
    { id: 'apply-move', title: 'Apply the changes (undone if a later step fails)' },
    { id: 'test-access', title: 'Check the person holds exactly what the new role gives' },
    { id: 'write-report', title: 'Document the changes' },
  ],
} as const satisfies RunbookDefinition;

export const RUNBOOKS: readonly RunbookDefinition[] = [
  dataRestoreRunbook,
  securityPatchingRunbook,
  softwareFixRunbook,
  diskReplacementRunbook,
  restoreDrillRunbook,
  softwareConflictRunbook,
  incidentResponseRunbook,
  accountJoinerRunbook,
  passwordResetRunbook,
  accountLeaverRunbook,
  accountMoverRunbook,
  hardwareSwapRunbook,
];

export function findRunbook(name: string): RunbookDefinition | undefined {
  return RUNBOOKS.find((r) => r.name === name);
}
