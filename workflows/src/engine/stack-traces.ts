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
 * What is kept: the hook drops its own one or two frames, so each promise keeps the three or four
 * nearest its creation. The query lists the promises a run waits on that no other tracked promise
 * waits on, each with those frames; an async function shows up through the promise its pending
 * `await` made. A run at its approval gate names ApprovalGates.open, RunbookRun.approval and the
 * runbook's body, each with file and line. An error made in workflow code carries 5 frames, also in
 * a failure's history event. Activities run outside the sandbox and keep Node's limit.
 *
 * Not lower than 5: the hook recognises the promises Promise.all and Promise.race make by the three
 * frames after its own, and links them to the aggregate; with fewer it could not.
 */
export const WORKFLOW_STACK_TRACE_LIMIT = 5;

/**
 * Called once as the worker loads the sandbox's interceptors module, never in the worker's own Node
 * context. bundleRunbookWorkflows (apps/worker/src/bundle.ts) always preloads that module, so this
 * runs before the SDK freezes the sandbox's globals.
 */
export function limitSandboxStackTraces(): void {
  (globalThis as unknown as { Error: { stackTraceLimit: number } }).Error.stackTraceLimit = WORKFLOW_STACK_TRACE_LIMIT;
}
