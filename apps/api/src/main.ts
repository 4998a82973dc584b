import { Logger } from '@nestjs/common';
import { describeLocation } from '@runbooks/store';
import { tracingFromEnv } from '@runbooks/activities/api-surface';
import { createApiApp } from './create-app';
import { loadApiConfig } from './config';

async function main(): Promise<void> {
  const config = loadApiConfig(process.env);
  // Registered before the app exists, so the request spans and the Temporal client use it.
  const tracing = tracingFromEnv('runbooks-api');
  process.once('beforeExit', () => void tracing?.shutdown());
  const app = await createApiApp(config);
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  new Logger('Api').log(
    `listening on http://${config.host}:${config.port} (API docs at /docs, Temporal at ${config.temporalAddress}, store: ${describeLocation(config.store)})`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
