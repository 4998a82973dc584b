import type { RedeemedCredentials } from '@runbooks/contracts';
import type { AccountsRepository } from '@runbooks/store';
import { keyFromToken, sha256Hex, unseal } from './credentials';

export type RedeemResult = { state: 'redeemed'; credentials: RedeemedCredentials } | { state: 'unknown' | 'used' | 'expired' };

/**
 * Opens a one-time credential link (the API's redeem endpoint): the first call before the expiry
 * gets the credentials, sealed with a key only the token gives; every later call gets nothing.
 */
export async function redeemCredentialLink(accounts: AccountsRepository, token: string, at = new Date()): Promise<RedeemResult> {
  const outcome = await accounts.redeem(sha256Hex(token), at);
  if (outcome.state !== 'redeemed') return { state: outcome.state };
  const credentials = JSON.parse(unseal(keyFromToken(token), outcome.sealed, `link:${outcome.link.username}`)) as RedeemedCredentials;
  return { state: 'redeemed', credentials };
}
