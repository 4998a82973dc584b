/**
 * The API in a process of its own for the benches (see startBenchApiProcess in service.ts): the
 * load generator's HTTP clients and the API then each have their own event loop, as a client and
 * a server do in production, instead of one thread queueing both.
 *
 * Started with fork(); reads its options from the first message, answers `{ url }` once it listens
 * and `{ cpuMs }` (its CPU time so far) to each `'cpu'` message, closes the API and exits when the
 * parent disconnects.
 */
import { startBenchApi, type BenchApiOptions } from './service';

process.once('message', (options: BenchApiOptions) => {
  startBenchApi(options).then(
    (api) => {
      process.on('message', (message) => {
        if (message === 'cpu') process.send!({ cpuMs: cpuMs() });
      });
      process.send!({ url: api.url });
      process.once('disconnect', () => {
        api.close().finally(() => process.exit(0));
      });
    },
    (error: unknown) => {
      process.send!({ error: String((error as Error)?.stack ?? error) });
      process.exit(1);
    },
  );
});

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
