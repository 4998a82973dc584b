/**
 * What the API shares with the worker, and nothing that acts on the world: the stores it reads and
 * writes (calendar, inventory, approvals given ahead, restore target policy, asset register, software-conflict reproductions), the secrets catalog,
 * the payload codec, Slack action ids, the metrics, logs and traces both processes export, and the Temporal client's close-safe gRPC retry. The API imports `@runbooks/activities/api-surface`, never the
 * package's index, which loads every driver (ssh2, restic, the host drivers); the test
 * `test/src/api/module-graph.test.ts` keeps it so. Window logic itself is in `@runbooks/maintenance`.
 */
export { PreApprovalStore } from './approvals/pre-approval-store';
export { AssetRegister, type AssetRecord } from './assets/activities';
export { RestoreTargetPolicyStore, serviceDataDirs } from './files/target-policy';
export { HostFailureType } from './hosts/failures';
export { InventoryStore } from './hosts/inventory-store';
export { CalendarStore } from './maintenance/calendar-store';
export { isLinkAction, parseApprovalActionId } from './notify/slack-blocks';
export { SecretCatalog, SecretResolver, secretsConfigFromEnv } from './secrets/resolve-secret';
export { codecKeyRefsFromEnv, loadPayloadCodec } from './codec/codec-keys';
export { RunbookMetrics } from './observability/metrics';
export { createServiceLogger } from './observability/logger';
export { nestLoggerFor } from './observability/nest-logger';
export { tracingFromEnv } from './observability/tracing';
export { closeOnStopSignals } from './observability/stop-signals';
export { IncidentCatalogStore } from './incident/catalog-store';
export { ConflictReproductionStore } from './hosts/conflict-reproductions';
export { closeSafeGrpcRetry } from './temporal-client/close-safe-retry';
export { redeemCredentialLink } from './accounts/credential-links';
