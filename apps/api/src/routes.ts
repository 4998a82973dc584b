import { credentialLinkRoutes } from './accounts/credential-links.routes';
import { approvalRoutes } from './approvals/approvals.routes';
import { assetRoutes } from './assets/assets.routes';
import { auditRoutes } from './audit/audit.routes';
import { catalogRoutes } from './catalog/catalog.routes';
import { meRoutes } from './console/me.routes';
import { codecRoutes } from './codec/codec.routes';
import { docsRoutes } from './docs/docs.routes';
import { healthRoutes } from './health/health.routes';
import type { RouteDefinition } from './http/route';
import { slackRoutes } from './integrations/slack.routes';
import { inventoryRoutes } from './inventory/inventory.routes';
import { knowledgeBaseRoutes } from './knowledge-base/knowledge-base.routes';
import { policyRoutes } from './policy/policy.routes';
import { incidentRoutes } from './incidents/incidents.routes';
import { reproductionRoutes } from './software-conflict/reproductions.routes';
import { maintenanceRoutes } from './maintenance/maintenance.routes';
import { rolloutRoutes } from './rollout/rollout.routes';
import { runRoutes } from './runs/runs.routes';
import { preApprovalRoutes } from './pre-approvals/pre-approvals.routes';
import { scheduleRoutes } from './schedules/schedules.routes';
import { taskRoutes } from './tasks/tasks.routes';
import { tokenRoutes } from './admin-tokens/tokens.routes';

/** Every route of the API; the OpenAPI document is generated from this list. */
export const API_ROUTES: readonly RouteDefinition[] = [
  ...Object.values(healthRoutes),
  ...Object.values(docsRoutes),
  ...Object.values(catalogRoutes),
  ...Object.values(runRoutes),
  ...Object.values(approvalRoutes),
  ...Object.values(taskRoutes),
  ...Object.values(rolloutRoutes),
  ...Object.values(inventoryRoutes),
  ...Object.values(policyRoutes),
  ...Object.values(incidentRoutes),
  ...Object.values(assetRoutes),
  ...Object.values(scheduleRoutes),
  ...Object.values(preApprovalRoutes),
  ...Object.values(maintenanceRoutes),
  ...Object.values(meRoutes),
  ...Object.values(slackRoutes),
  ...Object.values(codecRoutes),
  ...Object.values(tokenRoutes),
  ...Object.values(auditRoutes),
  ...Object.values(knowledgeBaseRoutes),
  ...Object.values(reproductionRoutes),
  ...Object.values(credentialLinkRoutes),
];
