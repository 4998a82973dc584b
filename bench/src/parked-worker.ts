/**
 * One worker in a process of its own, for the parked-runs bench: `ours` is the real worker
 * (createRunbookWorker, real activities, the real bundle with the bench runbooks), `bare` a plain
 * Worker with the bare bundle. Its RSS is then the worker's alone. Talks over the IPC channel:
 * it sends `{ ready }`, answers `rss` with its RSS after a full GC, and stops on `stop`.
 *
 *   forked by parked-runs.js: parked-worker.js <ours|bare> <address> <taskQueue> <bundlePath> <dir> <maxCachedWorkflows>
 */
import { NativeConnection } from '@temporalio/worker';
import { collectGarbage, installQuietRuntime, sleep } from './common';
import { startBareWorker, startOurWorker } from './service';

async function main(): Promise<void> {
  const [kind, address, taskQueue, bundlePath, dir, maxCached] = process.argv.slice(2);
  installQuietRuntime();
  const native = await NativeConnection.connect({ address });
  const maxCachedWorkflows = Number(maxCached);
  let stop: () => Promise<void>;
  if (kind === 'ours') {
    const ours = await startOurWorker({ native, taskQueue, bundlePath, dir, maxCachedWorkflows });
    stop = ours.stop;
  } else {
    ({ stop } = await startBareWorker({ native, taskQueue, bundlePath, maxCachedWorkflows }));
  }
  process.on('message', (message: string) => {
    void (async () => {
      if (message === 'rss') {
        // Two collections a moment apart: the second frees what the first's finalizers released.
        collectGarbage();
        await sleep(500);
        collectGarbage();
        const { rss, heapUsed } = process.memoryUsage();
        process.send?.({ rss, heapUsed });
      } else if (message === 'stop') {
        await stop();
        await native.close();
        process.exit(0);
      }
    })();
  });
  process.send?.({ ready: true });
}

main().catch((error: unknown) => {
  console.error('parked worker failed:', error);
  process.exit(1);
});
