import { Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { consoleStaticMiddleware, CONSOLE_DIST } from './console-static';
import { MeController } from './me.controller';

/**
 * The web console (apps/console, built by Vite) served from this process under /console: same
 * origin as the API, so its calls carry the Bearer token with no CORS. The static files need no
 * token (they hold no data); every API call the console makes is authenticated as any other.
 */
@Module({ controllers: [MeController] })
export class ConsoleModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // Middleware, not a controller: it runs before the route guard, which refuses undeclared routes.
    consumer.apply(consoleStaticMiddleware(CONSOLE_DIST)).forRoutes('console', 'console/*path');
  }
}
