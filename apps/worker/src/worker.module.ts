import { Module, type DynamicModule } from '@nestjs/common';
import type { WorkerConfig } from './config';
import { WORKER_CONFIG } from './tokens';
import { RunbookWorkerService } from './worker.service';

@Module({})
export class WorkerModule {
  static forConfig(config: WorkerConfig): DynamicModule {
    return {
      module: WorkerModule,
      providers: [{ provide: WORKER_CONFIG, useValue: config }, RunbookWorkerService],
    };
  }
}
