import { ApplicationFailure } from '@temporalio/workflow';
import type { ProcedureCall } from '@runbooks/contracts';
import type { HostProcedure } from './procedure';
import { securityPatch } from './security-patch';
import { softwareFix } from './software-fix';

export type { HostCall, HostProcedure } from './procedure';

/**
 * Every per-host procedure a fleet rollout can run, by the name a ProcedureCall gives. To add
 * one: write its prepare / act / verify / undo in this folder and register it here.
 */
export const PROCEDURES = {
  'security-patch': securityPatch,
  'software-fix': softwareFix,
} as const satisfies Record<string, HostProcedure<never>>;

export type ProcedureName = keyof typeof PROCEDURES;

/** A call of a registered procedure with its own parameter type, so a typo or a wrong parameter does not compile. */
export function procedureCall<N extends ProcedureName>(
  name: N,
  params: (typeof PROCEDURES)[N] extends HostProcedure<infer P> ? P : never,
): ProcedureCall {
  return { name, params };
}

/** The procedure a call names; an unknown name fails the batch for good (a retry cannot fix it). */
export function procedureFor(call: ProcedureCall): HostProcedure<unknown> {
  const procedure = (PROCEDURES as Record<string, HostProcedure<never>>)[call.name];
  if (!procedure) {
    throw ApplicationFailure.create({ type: 'UnknownProcedure', message: `no host procedure named ${call.name}`, nonRetryable: true });
  }
  return procedure as HostProcedure<unknown>;
}
