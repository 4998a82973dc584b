import {
  ForbiddenException,
  Injectable,
  UnauthorizedException,
  createParamDecorator,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { hasAnyRole, type Principal } from '@runbooks/contracts';
import type { Request } from 'express';
import { routeOf } from '../http/route-of';
import { OidcAuthenticator } from './oidc';
import { PrincipalDirectory } from './principals';

type AuthenticatedRequest = Request & { principal?: Principal; tokenSha256?: string };

/**
 * Every route declares its access; a route without a declaration is refused (fail closed).
 * Bearer tokens are looked up by their sha256 in the store, on every request.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly principals: PrincipalDirectory,
    private readonly oidc: OidcAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const route = routeOf(context.getHandler());
    if (!route) throw new Error(`${context.getClass().name}.${context.getHandler().name} has no route definition`);
    if (route.access === 'public') return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    if (!header) throw new UnauthorizedException('missing Authorization: Bearer <token> header');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new UnauthorizedException('the Authorization header must be "Bearer <token>"');
    // Service tokens first; a JWT from the single sign-on issuer otherwise (oidc.ts).
    const service = await this.principals.authenticate(match[1]);
    const principal = service?.principal ?? (await this.oidc.authenticate(match[1]));
    if (!principal) throw new UnauthorizedException('unknown or revoked token');
    request.principal = principal;
    request.tokenSha256 = service?.tokenSha256;

    if (route.access !== 'authenticated' && !hasAnyRole(principal, route.access.anyRole)) {
      const needed = [...new Set([...route.access.anyRole, 'admin'])].join(' or ');
      throw new ForbiddenException(
        `${principal.id} may not ${lowerFirst(route.summary)}: that needs the role ${needed} (${principal.id} has ${principal.roles.join(', ')})`,
      );
    }
    return true;
  }
}

/** The authenticated caller of the current request. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a route without authentication');
  return principal;
});

/** The sha256 of the service token that authenticated the current request; undefined for a single sign-on JWT. */
export const CurrentTokenSha256 = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): string | undefined => ctx.switchToHttp().getRequest<AuthenticatedRequest>().tokenSha256,
);

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
