import {
  Injectable,
  Module,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuditGuard } from './audit/audit-entry';
import { Store } from '@runbooks/store';
import { CredentialLinksController } from './accounts/credential-links.controller';
import { ApprovalsController } from './approvals/approvals.controller';
import { ApprovalsService } from './approvals/approvals.service';
import { AuditController } from './audit/audit.controller';
import { KnowledgeBaseController } from './knowledge-base/knowledge-base.controller';
import { AuthGuard } from './auth/auth.guard';
import { OidcAuthenticator } from './auth/oidc';
import { PrincipalDirectory } from './auth/principals';
import { CatalogController } from './catalog/catalog.controller';
import { ConsoleModule } from './console/console.module';
import { CodecController } from './codec/codec.controller';
import type { ApiConfig } from './config';
import { DocsController } from './docs/docs.controller';
import { HealthController } from './health/health.controller';
import { activateRequestSpan, tracingIsOn } from './observability';
import type { OpenApiDocument } from './http/openapi';
import { loadSlackConfig, SLACK_CONFIG } from './integrations/slack-config';
import { SlackController } from './integrations/slack.controller';
import { SlackInteractionsService } from './integrations/slack.service';
import { AssetRegister } from '@runbooks/activities/api-surface';
import { AssetsController } from './assets/assets.controller';
import { InventoryController } from './inventory/inventory.controller';
import { InventoryService, inventoryStoreProvider } from './inventory/inventory.service';
import { MaintenanceController } from './maintenance/maintenance.controller';
import { MaintenanceService, calendarStoreProvider } from './maintenance/maintenance.service';
import { RolloutController } from './rollout/rollout.controller';
import { RolloutService } from './rollout/rollout.service';
import { PolicyController } from './policy/policy.controller';
import { IncidentsController } from './incidents/incidents.controller';
import { IncidentsService, incidentCatalogStoreProvider } from './incidents/incidents.service';
import { ReproductionsController } from './software-conflict/reproductions.controller';
import { ReproductionsService, conflictReproductionStoreProvider } from './software-conflict/reproductions.service';
import { PolicyService, restoreTargetPolicyStoreProvider } from './policy/policy.service';
import { RunAdmission } from './runs/admission';
import { RunListing } from './runs/run-listing';
import { RunsController } from './runs/runs.controller';
import { RunsService } from './runs/runs.service';
import { PreApprovalsController } from './pre-approvals/pre-approvals.controller';
import { PreApprovalsService, preApprovalStoreProvider } from './pre-approvals/pre-approvals.service';
import { SecretsService } from './secrets/secrets.service';
import { SchedulesController } from './schedules/schedules.controller';
import { SchedulesService } from './schedules/schedules.service';
import { CallerAssertions } from './signing/caller-assertions';
import { TasksController } from './tasks/tasks.controller';
import { TasksService } from './tasks/tasks.service';
import { TemporalService, temporalConnectionProvider } from './temporal/temporal.service';
import { TokensController } from './admin-tokens/tokens.controller';
import { API_CONFIG, OPENAPI_DOCUMENT, PAYLOAD_CODEC } from './tokens';
import type { PayloadCodec } from '@temporalio/common';

/** Closes the store's connections when the application shuts down. */
@Injectable()
class StoreShutdown implements OnApplicationShutdown {
  constructor(private readonly store: Store) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

@Module({})
export class ApiModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    if (tracingIsOn()) consumer.apply(activateRequestSpan).forRoutes('*');
  }

  static forRoot(
    config: ApiConfig,
    store: Store,
    principals: PrincipalDirectory,
    document: OpenApiDocument,
    payloadCodec: PayloadCodec | undefined,
  ): DynamicModule {
    return {
      module: ApiModule,
      imports: [ConsoleModule],
      controllers: [
        HealthController,
        DocsController,
        CatalogController,
        RunsController,
        ApprovalsController,
        TasksController,
        RolloutController,
        InventoryController,
        PolicyController,
        IncidentsController,
        AssetsController,
        SchedulesController,
        PreApprovalsController,
        MaintenanceController,
        SlackController,
        CodecController,
        TokensController,
        AuditController,
        KnowledgeBaseController,
        ReproductionsController,
        CredentialLinksController,
      ],
      providers: [
        { provide: API_CONFIG, useValue: config },
        { provide: Store, useValue: store },
        StoreShutdown,
        { provide: PrincipalDirectory, useValue: principals },
        { provide: OPENAPI_DOCUMENT, useValue: document },
        { provide: PAYLOAD_CODEC, useValue: payloadCodec ?? null },
        temporalConnectionProvider,
        TemporalService,
        RunListing,
        RunsService,
        RunAdmission,
        CallerAssertions,
        ApprovalsService,
        TasksService,
        RolloutService,
        inventoryStoreProvider,
        InventoryService,
        restoreTargetPolicyStoreProvider,
        PolicyService,
        incidentCatalogStoreProvider,
        IncidentsService,
        conflictReproductionStoreProvider,
        ReproductionsService,
        { provide: AssetRegister, inject: [Store], useFactory: (store: Store) => new AssetRegister(store) },
        SchedulesService,
        PreApprovalsService,
        preApprovalStoreProvider,
        calendarStoreProvider,
        MaintenanceService,
        { provide: OidcAuthenticator, useFactory: () => OidcAuthenticator.fromEnv(process.env) },
        { provide: SLACK_CONFIG, useFactory: () => loadSlackConfig(process.env) },
        SlackInteractionsService,
        SecretsService,
        // Every route's access is checked here; then every write the caller may make gets its audit
        // entry, appended by its route's handler (ApiRoute in http/route.ts) or the exception filter.
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: AuditGuard },
      ],
    };
  }
}
