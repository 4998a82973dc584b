import { Controller, Headers, NotFoundException, Res } from '@nestjs/common';
import { AssetRegister, type AssetRecord } from '@runbooks/activities/api-surface';
import type { Response } from 'express';
import { ApiRoute, Valid, type BodyOf, type ParamsOf, type QueryOf } from '../http/route';
import { expectedVersion, preconditioned, sendVersion } from '../store/versions';
import { assetRoutes } from './assets.routes';

/** The asset register over the shared store; each asset's version is its ETag. */
@Controller()
export class AssetsController {
  constructor(private readonly register: AssetRegister) {}

  @ApiRoute(assetRoutes.list)
  async list(@Valid('query') { host }: QueryOf<typeof assetRoutes.list>): Promise<{ assets: AssetRecord[] }> {
    return { assets: await this.register.list(host) };
  }

  @ApiRoute(assetRoutes.get)
  async get(
    @Valid('params') { tag }: ParamsOf<typeof assetRoutes.get>,
    @Res({ passthrough: true }) response: Response,
  ): Promise<AssetRecord> {
    const asset = await this.register.get(tag);
    if (!asset) throw new NotFoundException(`the asset register has no asset ${tag}`);
    sendVersion(response, asset.version);
    return asset;
  }

  @ApiRoute(assetRoutes.put)
  async put(
    @Valid('params') { tag }: ParamsOf<typeof assetRoutes.put>,
    @Valid('body') body: BodyOf<typeof assetRoutes.put>,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<AssetRecord> {
    const written = await preconditioned(`asset ${tag}`, () => this.register.write(tag, body, expectedVersion(ifMatch)));
    sendVersion(response, written.version);
    return written;
  }
}
