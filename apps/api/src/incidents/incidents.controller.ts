import { Controller, Headers, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ApiRoute, Valid, type BodyOf } from '../http/route';
import { expectedVersion, sendVersion } from '../store/versions';
import { incidentRoutes, type IncidentCatalogRead, type IncidentCatalogReplaced } from './incidents.routes';
import { IncidentsService } from './incidents.service';

@Controller()
export class IncidentsController {
  constructor(private readonly incidents: IncidentsService) {}

  @ApiRoute(incidentRoutes.readCatalog)
  async readCatalog(@Res({ passthrough: true }) response: Response): Promise<IncidentCatalogRead> {
    const { version, ...catalog } = await this.incidents.read();
    sendVersion(response, version);
    return catalog;
  }

  @ApiRoute(incidentRoutes.replaceCatalog)
  async replaceCatalog(
    @Valid('body') body: BodyOf<typeof incidentRoutes.replaceCatalog>,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<IncidentCatalogReplaced> {
    const { version, ...replaced } = await this.incidents.replace(body, expectedVersion(ifMatch));
    sendVersion(response, version);
    return replaced;
  }
}
