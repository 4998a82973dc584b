import { Controller, Headers, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ApiRoute, Valid, type BodyOf } from '../http/route';
import { expectedVersion, sendVersion } from '../store/versions';
import { reproductionRoutes, type ReproductionCatalogRead, type ReproductionCatalogReplaced } from './reproductions.routes';
import { ReproductionsService } from './reproductions.service';

@Controller()
export class ReproductionsController {
  constructor(private readonly reproductions: ReproductionsService) {}

  @ApiRoute(reproductionRoutes.readCatalog)
  async readCatalog(@Res({ passthrough: true }) response: Response): Promise<ReproductionCatalogRead> {
    const { version, ...catalog } = await this.reproductions.read();
    sendVersion(response, version);
    return catalog;
  }

  @ApiRoute(reproductionRoutes.replaceCatalog)
  async replaceCatalog(
    @Valid('body') body: BodyOf<typeof reproductionRoutes.replaceCatalog>,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ReproductionCatalogReplaced> {
    const { version, ...replaced } = await this.reproductions.replace(body, expectedVersion(ifMatch));
    sendVersion(response, version);
    return replaced;
  }
}
