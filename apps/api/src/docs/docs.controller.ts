import { Controller, Inject } from '@nestjs/common';
import { ApiRoute } from '../http/route';
import type { OpenApiDocument } from '../http/openapi';
import { OPENAPI_DOCUMENT } from '../tokens';
import { docsRoutes } from './docs.routes';

@Controller()
export class DocsController {
  constructor(@Inject(OPENAPI_DOCUMENT) private readonly document: OpenApiDocument) {}

  @ApiRoute(docsRoutes.openapi)
  openapi(): OpenApiDocument {
    return this.document;
  }
}
