import { approvalRoutes } from './approvals/approvals.routes';
import { catalogRoutes } from './catalog/catalog.routes';
import { docsRoutes } from './docs/docs.routes';
import { healthRoutes } from './health/health.routes';
import type { RouteDefinition } from './http/route';
import { runRoutes } from './runs/runs.routes';

/** Every route of the API; the OpenAPI document is generated from this list. */
export const API_ROUTES: readonly RouteDefinition[] = [
  ...Object.values(healthRoutes),
  ...Object.values(docsRoutes),
  ...Object.values(catalogRoutes),
  ...Object.values(runRoutes),
  ...Object.values(approvalRoutes),
];
