import { publishCopiesAtActivationEnd, publishCopyWhenActivationEnds, publishDueCopies } from './status-copy';

const DUE = Symbol.for('runbooks.statusCopiesDue');

describe('status copy publishing', () => {
  afterEach(() => {
    delete (globalThis as unknown as Record<symbol, unknown>)[DUE];
  });

  it('publishes at once in a workflow without the interceptors that end activations', () => {
    const published: string[] = [];
    publishCopyWhenActivationEnds(() => published.push('copy'));
    publishCopyWhenActivationEnds(() => published.push('copy'));
    expect(published).toEqual(['copy', 'copy']);
  });

  it('publishes once per activation, with the state as the activation ends, when the interceptors end activations', () => {
    publishCopiesAtActivationEnd();
    const state = { step: 'approve' };
    const published: string[] = [];
    const publish = () => published.push(state.step);
    publishCopyWhenActivationEnds(publish); // the decision
    state.step = 'noop';
    publishCopyWhenActivationEnds(publish); // the next step starts
    expect(published).toEqual([]);
    publishDueCopies();
    expect(published).toEqual(['noop']);
    publishDueCopies(); // an activation that changed nothing publishes nothing
    expect(published).toEqual(['noop']);
    publishCopyWhenActivationEnds(publish);
    publishDueCopies();
    expect(published).toEqual(['noop', 'noop']);
  });
});
