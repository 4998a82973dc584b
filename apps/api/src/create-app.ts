import 'reflect-metadata';
import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { json, type NextFunction, type Request, type Response } from 'express';
import swaggerUi from 'swagger-ui-express';
import type { DestinationStream } from 'pino';
import { ApiModule } from './api.module';
import { RUNBOOKS } from '@runbooks/contracts';
import { Store } from '@runbooks/store';
import { PrincipalDirectory } from './auth/principals';
import { parseApiConfig, type ApiConfigInput } from './config';
import { ApiExceptionFilter } from './http/errors';
import { buildOpenApiDocument } from './http/openapi';
import { slackFormParser } from './integrations/slack-body-parser';
import { API_ROUTES } from './routes';
import {
  RunbookMetrics,
  SecretResolver,
  createServiceLogger,
  loadPayloadCodec,
  nestLoggerFor,
  secretsConfigFromEnv,
} from '@runbooks/activities/api-surface';
import { metricsEndpoint, observeRequests } from './observability';
import { RunListing } from './runs/run-listing';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../package.json') as { version: string };

/**
 * The largest PUT /v1/inventory body (every other body keeps the 100 kB default): MAX_INVENTORY_HOSTS
 * (100,000) pinned ssh hosts take about 26 MB, so 40 MB leaves each host about 400 bytes.
 */
export const INVENTORY_BODY_LIMIT = '40mb';

/**
 * The API as a Nest application, initialised but not listening: main.ts listens, tests use
 * supertest on getHttpServer(). The Temporal connection is lazy, so this works before Temporal is up.
 * The store is opened and migrated first; the app closes it when it closes.
 */
export async function createApiApp(
  input: ApiConfigInput = {},
  options: { logDestination?: DestinationStream } = {},
): Promise<INestApplication> {
  const config = parseApiConfig(input);
  // Migrations run here, before the API answers (safe when several replicas start at once).
  const store = Store.open(config.store);
  let principals: PrincipalDirectory;
  try {
    await store.ready();
    principals = await PrincipalDirectory.open(store, config.principalsFile);
  } catch (error) {
    await store.close();
    throw error;
  }
  const document = buildOpenApiDocument(API_ROUTES, version);
  const secrets = new SecretResolver({ ...secretsConfigFromEnv(), catalogFile: config.secretsFile, secretsDir: config.secretsDir });
  const payloadCodec = await loadPayloadCodec(config.codecKeys, secrets);
  const logger = createServiceLogger({ service: 'api', level: pinoLevel(config.logLevels), destination: options.logDestination });
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(config, store, principals, document, payloadCodec), {
    logger: nestLoggerFor(logger),
    abortOnError: false,
  });
  app.disable('x-powered-by');
  // First: every request is timed, counted and traced, whatever answers it.
  const metrics = new RunbookMetrics();
  app.use(observeRequests(metrics, API_ROUTES, logger));
  app.getHttpAdapter().getInstance().get('/metrics', metricsEndpoint(metrics, config.metricsToken));
  // An inventory is one document of up to 100,000 hosts, far over the default 100 kB body limit.
  // Parsed here first, the default parser skips it; named so Nest still installs its own.
  const inventoryJson = json({ limit: INVENTORY_BODY_LIMIT });
  app.use('/v1/inventory', function inventoryJsonParser(req: Request, res: Response, next: NextFunction) {
    inventoryJson(req, res, next);
  });
  // Slack signs the raw form body: parsed here, with the bytes kept, before Nest's parsers.
  app.use('/v1/integrations/slack', slackFormParser);
  if (config.temporalUiOrigin) app.use('/codec', codecCors(new URL(config.temporalUiOrigin).origin));
  app.useGlobalFilters(new ApiExceptionFilter());
  // swagger-ui-express serves its own bundled assets: the docs work offline.
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(document, { customSiteTitle: 'Runbooks API' }));
  if (!payloadCodec) new Logger('Codec').warn('RUNBOOKS_CODEC_KEYS is not set: workflow histories are stored unencrypted');
  if (principals.isDemo) {
    new Logger('Auth').warn(`${config.principalsFile} is the DEMO principals file: its tokens are public; never use it in production`);
  }
  await app.init();
  const listing = app.get(RunListing);
  metrics.waitingRuns = () => listing.countWaiting();
  metrics.failingRuns = () => failingInARow(app.get(Store));
  return app;
}

/** Nest's level list as the logger's threshold: the most verbose level listed. */
function pinoLevel(levels: readonly string[]): string {
  if (levels.includes('verbose')) return 'trace';
  if (levels.includes('debug')) return 'debug';
  if (levels.includes('log')) return 'info';
  if (levels.includes('warn')) return 'warn';
  return levels.includes('error') ? 'error' : 'fatal';
}

/**
 * The Temporal web UI calls /codec/* from the browser, with the user's token when it is set to pass
 * it: its origin (only it) may, with credentials; a preflight is answered here, before authentication.
 */
function codecCors(origin: string) {
  return function codecCorsHeaders(req: Request, res: Response, next: NextFunction): void {
    if (req.headers.origin !== origin) return next();
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Vary', 'Origin');
    if (req.method !== 'OPTIONS') return next();
    res.setHeader('Access-Control-Allow-Methods', 'POST');
    res.setHeader('Access-Control-Allow-Headers', 'authorization, content-type, x-namespace');
    res.setHeader('Access-Control-Max-Age', '600');
    res.status(204).end();
  };
}

/** Each catalog runbook's runs failed since its last success (0 when none), and any other runbook's with some. */
async function failingInARow(store: Store): Promise<Array<{ runbook: string; count: number }>> {
  const failing = new Map(
    (await store.reports.failingInARow(['failed'], ['succeeded', 'succeeded_with_warnings'])).map((r) => [r.runbook, r.count]),
  );
  return [...new Set([...RUNBOOKS.map((r) => r.name), ...failing.keys()])].map((runbook) => ({
    runbook,
    count: failing.get(runbook) ?? 0,
  }));
}
