import { ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import { roleSchema, type Principal, type Role } from '@runbooks/contracts';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { principalIdSchema } from '../runs/runs.routes';
import { loadOidcConfig, type OidcConfig } from './oidc-config';

/** Three base64url parts: a JWS compact serialization. Anything else is no sign-on token (service tokens are looked up first). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Verifies a person's OpenID Connect token (signature against the issuer's JWKS, issuer,
 * audience, expiry) and turns it into a principal whose roles come from a claim or from group
 * membership. The JWKS is cached and refetched when a token names a key it does not know.
 */
export class OidcAuthenticator {
  private readonly jwks?: ReturnType<typeof createRemoteJWKSet>;

  constructor(readonly config: OidcConfig | undefined) {
    if (config) this.jwks = createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 5_000 });
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env): OidcAuthenticator {
    return new OidcAuthenticator(loadOidcConfig(env));
  }

  /** Undefined when single sign-on is off or the token is not a JWT; a JWT that fails is a 401 saying why. */
  async authenticate(token: string): Promise<Principal | undefined> {
    const { config, jwks } = this;
    if (!config || !jwks || !JWT_SHAPE.test(token)) return undefined;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: config.algorithms,
        clockTolerance: config.clockToleranceSeconds,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      throw refusal(error);
    }
    return this.principalOf(payload);
  }

  private principalOf(payload: JWTPayload): Principal {
    const config = this.config as OidcConfig;
    const id = claim(payload, config.idClaim);
    const parsedId = principalIdSchema.safeParse(id);
    if (!parsedId.success) throw new UnauthorizedException(`the token's ${config.idClaim} claim is missing or not a usable id`);
    const name = claim(payload, config.nameClaim);
    const roles = new Set<Role>();
    if (config.rolesClaim) for (const r of strings(claim(payload, config.rolesClaim))) addRole(roles, r);
    for (const group of strings(claim(payload, config.groupsClaim))) for (const r of config.groupRoles[group] ?? []) roles.add(r);
    if (roles.size === 0) {
      throw new UnauthorizedException(`${parsedId.data} is signed in but holds no runbooks role (no role in the token's claims or groups)`);
    }
    return { id: parsedId.data, displayName: typeof name === 'string' && name ? name : parsedId.data, roles: [...roles] };
  }
}

function addRole(roles: Set<Role>, value: string): void {
  const role = roleSchema.safeParse(value);
  if (role.success) roles.add(role.data);
}

/** A claim by name, or by a dotted path into nested objects (realm_access.roles). */
function claim(payload: JWTPayload, name: string): unknown {
  if (name in payload) return payload[name];
  return name
    .split('.')
    .reduce<unknown>((v, key) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), payload);
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Why the token is refused, without echoing it; an issuer whose keys cannot be fetched is a 503, not the caller's fault. */
function refusal(error: unknown): Error {
  if (error instanceof errors.JWTExpired) return new UnauthorizedException('the sign-in token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    const what: Record<string, string> = { iss: 'issuer', aud: 'audience', nbf: 'not-before time', exp: 'expiry' };
    return new UnauthorizedException(
      `the sign-in token was refused: wrong or missing ${what[error.claim] ?? error.claim} (${error.reason})`,
    );
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new UnauthorizedException('the sign-in token has a bad signature');
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new UnauthorizedException('the sign-in token is signed with a key the issuer does not publish');
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return new UnauthorizedException('the sign-in token uses an algorithm this API does not accept');
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || isNetworkError(error)) {
    return new ServiceUnavailableException("the sign-in provider's keys (JWKS) cannot be fetched; try again later");
  }
  if (error instanceof errors.JOSEError) return new UnauthorizedException(`the sign-in token is invalid (${error.code})`);
  return error instanceof Error ? error : new Error(String(error));
}

function isNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) && !code.startsWith('ERR_JW');
}
