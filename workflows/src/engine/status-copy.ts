/**
 * When a run's status copy leaves the sandbox. A run publishes whenever its state changes (a step
 * starts or ends, a gate is decided), often several times in one activation: an approval's records
 * the decision, closes the gate and starts the next step. The SDK clones a sink call's arguments
 * when it is made, so each publish cost a copy of the whole state, and the worker wrote only the
 * newest. With the worker's workflow interceptors (interceptors.ts) a run publishes once, as the
 * activation ends, with the state as it is then; the worker still writes it before it completes
 * the workflow task, so a caller answered by an update reads what it did. Without them (a bundle
 * built without the interceptors) each publish goes out at once, as before.
 */

type Publish = () => void;

/**
 * The runs (one per workflow, in practice) whose copy is due at the end of the current activation.
 * A global of the workflow's own: the sandbox gives each workflow its own globals, while modules
 * may be shared by every workflow of the worker (preloaded).
 */
const DUE = Symbol.for('runbooks.statusCopiesDue');

function dueCopies(): Set<Publish> | undefined {
  return (globalThis as unknown as Record<symbol, Set<Publish> | undefined>)[DUE];
}

/** Called by the worker's interceptors as a workflow starts: its copies are published as each activation ends. */
export function publishCopiesAtActivationEnd(): void {
  (globalThis as unknown as Record<symbol, Set<Publish>>)[DUE] = new Set();
}

/** Publishes once the current activation ends (one call however often it is asked), or now without the interceptors. */
export function publishCopyWhenActivationEnds(publish: Publish): void {
  const due = dueCopies();
  if (due) due.add(publish);
  else publish();
}

/** The end of an activation (the interceptors' concludeActivation): every copy due goes out, with the state as it is now. */
export function publishDueCopies(): void {
  const due = dueCopies();
  if (!due || due.size === 0) return;
  const publishes = [...due];
  due.clear();
  for (const publish of publishes) publish();
}
