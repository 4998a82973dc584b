import 'reflect-metadata';
import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { json, type NextFunction, type Request, type Response } from 'express';
import swaggerUi from 'swagger-ui-express';
import { ApiModule } from './api.module';
import { Store } from '@runbooks/store';
import { PrincipalDirectory } from './auth/principals';
import { parseApiConfig, type ApiConfigInput } from './config';
import { ApiExceptionFilter } from './http/errors';
import { buildOpenApiDocument } from './http/openapi';
import { API_ROUTES } from './routes';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../package.json') as { version: string };

/** The largest PUT /v1/inventory body (every other body keeps the 100 kB default). */
export const INVENTORY_BODY_LIMIT = '25mb';

/**
 * The API as a Nest application, initialised but not listening: main.ts listens, tests use
 * supertest on getHttpServer(). The Temporal connection is lazy, so this works before Temporal is up.
 * The store is opened and migrated first; the app closes it when it closes.
 */
export async function createApiApp(input: ApiConfigInput = {}): Promise<INestApplication> {
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
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(config, store, principals, document), {
    logger: config.logLevels,
    abortOnError: false,
  });
  app.disable('x-powered-by');
  // An inventory is one document of up to 50,000 hosts, far over the default 100 kB body limit.
  // Parsed here first, the default parser skips it; named so Nest still installs its own.
  const inventoryJson = json({ limit: INVENTORY_BODY_LIMIT });
  app.use('/v1/inventory', function inventoryJsonParser(req: Request, res: Response, next: NextFunction) {
    inventoryJson(req, res, next);
  });
  app.useGlobalFilters(new ApiExceptionFilter());
  // swagger-ui-express serves its own bundled assets: the docs work offline.
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(document, { customSiteTitle: 'Runbooks API' }));
  if (principals.isDemo) {
    new Logger('Auth').warn(`${config.principalsFile} is the DEMO principals file: its tokens are public; never use it in production`);
  }
  await app.init();
  return app;
}
