import { Logger } from '@nestjs/common';
import { describeLocation } from '@runbooks/store';
import { closeOnStopSignals, tracingFromEnv } from '@runbooks/activities/api-surface';
import { createApiApp } from './create-app';
import { loadApiConfig } from './config';

async function main(): Promise<void> {
  const config = loadApiConfig(process.env);
  // Registered before the app exists, so the request spans and the Temporal client use it.
  const tracing = tracingFromEnv('runbooks-api');
  const app = await createApiApp(config);
  // The app closes (requests in flight end, the store closes), then the spans still buffered are sent.
  closeOnStopSignals(async () => {
    await app.close();
    await tracing?.shutdown();
  });
  await app.listen(config.port, config.host);
  new Logger('Api').log(
    `listening on http://${config.host}:${config.port} (API docs at /docs, Temporal at ${config.temporalAddress}, store: ${describeLocation(config.store)})`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
