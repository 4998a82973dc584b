import { Module, type DynamicModule } from '@nestjs/common';
import type { WorkerConfig } from './config';
import type { WorkerObservability } from './observability';
import { WORKER_CONFIG, WORKER_OBSERVABILITY } from './tokens';
import { RunbookWorkerService } from './worker.service';

@Module({})
export class WorkerModule {
  static forConfig(config: WorkerConfig, observability: WorkerObservability = {}): DynamicModule {
    return {
      module: WorkerModule,
      providers: [
        { provide: WORKER_CONFIG, useValue: config },
        { provide: WORKER_OBSERVABILITY, useValue: observability },
        RunbookWorkerService,
      ],
    };
  }
}
