import { Controller, GoneException, NotFoundException } from '@nestjs/common';
import { redeemCredentialLink } from '@runbooks/activities/api-surface';
import { AccountsRepository, Store } from '@runbooks/store';
import type { RedeemedCredentials } from '@runbooks/contracts';
import type { z } from 'zod';
import { ApiRoute, Valid } from '../http/route';
import { credentialLinkRoutes } from './credential-links.routes';

/** Hands out what a one-time credential link holds, once (single use rests on the store's conditional update). */
@Controller()
export class CredentialLinksController {
  private readonly accounts: AccountsRepository;

  constructor(store: Store) {
    this.accounts = new AccountsRepository(store);
  }

  @ApiRoute(credentialLinkRoutes.redeem)
  async redeem(@Valid('body') body: z.output<typeof credentialLinkRoutes.redeem.body>): Promise<RedeemedCredentials> {
    const result = await redeemCredentialLink(this.accounts, body.token);
    switch (result.state) {
      case 'redeemed':
        return result.credentials;
      case 'unknown':
        throw new NotFoundException('no credential link has this token');
      case 'used':
        throw new GoneException('this credential link was used already: ask the service desk for a password reset');
      case 'expired':
        throw new GoneException('this credential link expired (or its run was undone): ask the service desk for a password reset');
    }
  }
}
