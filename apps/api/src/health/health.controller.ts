import { Controller, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { z } from 'zod';
import { ApiRoute } from '../http/route';
import { TemporalService } from '../temporal/temporal.service';
import { healthRoutes, type healthBodySchema, type notReadyBodySchema, type readinessBodySchema } from './health.routes';

const READINESS_TIMEOUT_MS = 2_000;

@Controller()
export class HealthController {
  constructor(private readonly temporal: TemporalService) {}

  @ApiRoute(healthRoutes.liveness)
  liveness(): z.infer<typeof healthBodySchema> {
    return { status: 'ok' };
  }

  @ApiRoute(healthRoutes.readiness)
  async readiness(
    @Res({ passthrough: true }) response: Response,
  ): Promise<z.infer<typeof readinessBodySchema> | z.infer<typeof notReadyBodySchema>> {
    try {
      await this.temporal.checkServer(READINESS_TIMEOUT_MS);
      return { status: 'ready' };
    } catch (error) {
      response.status(503);
      return { status: 'unavailable', reason: (error as Error).message };
    }
  }
}
