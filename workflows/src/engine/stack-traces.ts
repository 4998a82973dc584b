/**
 * Frames kept in a stack trace made inside the workflow sandbox (V8's `Error.stackTraceLimit`,
 * 10 by default).
 *
 * The worker's promise hook records the stack of every promise workflow code creates, so that
 * Temporal's stack trace query can show where a run waits. It makes an Error for each promise and
 * formats and source-maps every frame of it when the promise is created, not when someone asks.
 * The engine's promises sit deeper than a bare workflow's (a fleet batch's host action goes through
 * the host procedure, the batch's activity view and the attempt envelope before the SDK's own
 * frames), so at 10 frames nearly every one of them paid for all 10: in CPU profiles of a fleet
 * campaign (`node --cpu-prof bench/dist/fleet-rollout.js --hosts 2000 --ours-only`, the workflow
 * thread's profile) the hook took a large part of that thread's time, most of
 * it per frame. Each promise keeping fewer frames is the cheapest cut.
 *
 * What is kept: the hook drops its own one or two frames, so each promise keeps the three nearest
 * its creation. The query still names every function a run is waiting in, because each async
 * function's promise is recorded on its own and the query lists them all (a run at its approval
 * gate: the SDK's `condition`, ApprovalGates.open, RunbookRun.approval, the runbook's body). An
 * error made in workflow code carries 5 frames, also in a failure's history event. Activities
 * run outside the sandbox and keep Node's limit.
 */
export const WORKFLOW_STACK_TRACE_LIMIT = 5;

/** Called once as the worker loads the sandbox's interceptors module; never in the worker's own Node context. */
export function limitSandboxStackTraces(): void {
  (globalThis as unknown as { Error: { stackTraceLimit: number } }).Error.stackTraceLimit = WORKFLOW_STACK_TRACE_LIMIT;
}
