import { ConflictException, Controller, NotFoundException } from '@nestjs/common';
import { principalSchema, type Principal } from '@runbooks/contracts';
import { Store, type TokenRow } from '@runbooks/store';
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { CurrentPrincipal, CurrentTokenSha256 } from '../auth/auth.guard';
import { tokenSha256 } from '../auth/principals';
import { RequestValidationError } from '../http/errors';
import { ApiRoute, Valid, type BodyOf, type ParamsOf, type QueryOf } from '../http/route';
import { tokenRoutes, type createdTokenSchema } from './tokens.routes';

/**
 * Admin API for bearer tokens: create (the token is answered once), list, revoke. An admin cannot
 * lock themselves out by mistake: the token of the request itself is not revoked, and the admin
 * role is not taken from the caller (another admin may do either).
 */
@Controller()
export class TokensController {
  constructor(private readonly store: Store) {}

  @ApiRoute(tokenRoutes.create)
  async create(
    @Valid('body') body: BodyOf<typeof tokenRoutes.create>,
    @CurrentPrincipal() caller: Principal,
    @CurrentTokenSha256() own: string | undefined,
  ): Promise<z.infer<typeof createdTokenSchema>> {
    let principal: Principal;
    // A caller signed in through single sign-on takes its roles from its JWT, not from this principal.
    if (own !== undefined && body.principal && body.principalId === caller.id && !body.principal.roles.includes('admin')) {
      throw new ConflictException(`that would take the admin role from ${caller.id}, who makes this request: another admin must do it`);
    }
    if (body.principal) {
      principal = { id: body.principalId, ...body.principal };
      await this.store.principals.putPrincipal(principal.id, JSON.stringify(principal));
    } else {
      const stored = await this.store.principals.principal(body.principalId);
      if (!stored) {
        throw new RequestValidationError('request body', [
          { path: ['principalId'], message: `no principal ${body.principalId}: give \`principal\` (displayName, roles) to create it` },
        ]);
      }
      principal = principalSchema.parse(JSON.parse(stored));
    }
    const token = `rbk_${randomBytes(32).toString('base64url')}`;
    const row = await this.store.principals.addToken({
      principalId: principal.id,
      tokenSha256: tokenSha256(token),
      label: body.label,
      createdBy: caller.id,
    });
    return { ...row, token, principal };
  }

  @ApiRoute(tokenRoutes.list)
  async list(@Valid('query') { principalId }: QueryOf<typeof tokenRoutes.list>): Promise<{ tokens: TokenRow[] }> {
    return { tokens: await this.store.principals.tokens(principalId) };
  }

  @ApiRoute(tokenRoutes.revoke)
  async revoke(
    @Valid('params') { id }: ParamsOf<typeof tokenRoutes.revoke>,
    @CurrentPrincipal() caller: Principal,
    @CurrentTokenSha256() own: string | undefined,
  ): Promise<TokenRow> {
    if (own !== undefined && (await this.store.principals.tokenSha256(id)) === own) {
      throw new ConflictException(`this request is authenticated with token ${id}: revoke it with another token`);
    }
    const row = await this.store.principals.revoke(id, caller.id);
    if (!row) throw new NotFoundException(`no token ${id}`);
    return row;
  }
}
