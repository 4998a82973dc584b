import type { RouteDefinition } from './route';

/**
 * Each handler's route definition, set once by ApiRoute as the controllers are declared: what
 * every request's guards and validation ask first, without reflect-metadata's lookups. Static
 * declarations, like the metadata Nest keeps; nothing a request changes. Keyed by the handler
 * function itself: something that wrapped controller methods after ApiRoute (an instrumentation
 * copying only reflect-metadata) would leave every route undeclared, which the AuthGuard refuses
 * (fail closed) rather than let through.
 */
const ROUTES = new WeakMap<object, RouteDefinition>();

export function declareRouteOf(handler: object, route: RouteDefinition): void {
  ROUTES.set(handler, route);
}

/** The route a handler was declared for with ApiRoute, if any. */
export function routeOf(handler: object): RouteDefinition | undefined {
  return ROUTES.get(handler);
}
