import { Controller } from '@nestjs/common';
import { ApiRoute, Valid, type BodyOf, type QueryOf } from '../http/route';
import { inventoryRoutes, type InventoryPage, type InventoryReplaced } from './inventory.routes';
import { InventoryService } from './inventory.service';

@Controller()
export class InventoryController {
  constructor(private readonly inventory: InventoryService) {}

  @ApiRoute(inventoryRoutes.list)
  list(@Valid('query') query: QueryOf<typeof inventoryRoutes.list>): Promise<InventoryPage> {
    return this.inventory.list(query);
  }

  @ApiRoute(inventoryRoutes.replace)
  replace(@Valid('body') body: BodyOf<typeof inventoryRoutes.replace>): Promise<InventoryReplaced> {
    return this.inventory.replace(body);
  }
}
