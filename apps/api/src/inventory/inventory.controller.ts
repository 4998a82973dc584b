import { Controller, Headers, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ApiRoute, Valid, type BodyOf, type QueryOf } from '../http/route';
import { expectedVersion, sendVersion } from '../store/versions';
import { inventoryRoutes, type InventoryPage, type InventoryReplaced } from './inventory.routes';
import { InventoryService } from './inventory.service';

@Controller()
export class InventoryController {
  constructor(private readonly inventory: InventoryService) {}

  @ApiRoute(inventoryRoutes.list)
  async list(
    @Valid('query') query: QueryOf<typeof inventoryRoutes.list>,
    @Res({ passthrough: true }) response: Response,
  ): Promise<InventoryPage> {
    const { version, ...page } = await this.inventory.list(query);
    sendVersion(response, version);
    return page;
  }

  @ApiRoute(inventoryRoutes.replace)
  async replace(
    @Valid('body') body: BodyOf<typeof inventoryRoutes.replace>,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<InventoryReplaced> {
    const { version, ...replaced } = await this.inventory.replace(body, expectedVersion(ifMatch));
    sendVersion(response, version);
    return replaced;
  }
}
