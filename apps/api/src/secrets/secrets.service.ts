import { Inject, Injectable } from '@nestjs/common';
import { SecretCatalog } from '@runbooks/activities/api-surface';
import { SECRET_REF_PREFIX, secretNameOf, secretUseRefusal, type Principal } from '@runbooks/contracts';
import type { ApiConfig } from '../config';
import { FieldForbiddenError, RequestValidationError } from '../http/errors';
import { API_CONFIG } from '../tokens';

/**
 * Checks the secrets a runbook input names against their definitions before any run starts:
 * an unknown name is a 400, a use the definition does not allow (runbook, the caller's roles, the
 * repository a password is for) a 403 naming the field. The worker checks again before reading.
 */
@Injectable()
export class SecretsService {
  private readonly catalog: SecretCatalog;

  constructor(@Inject(API_CONFIG) config: ApiConfig) {
    this.catalog = new SecretCatalog(config.secretsFile);
  }

  async refuseDisallowedSecrets(principal: Principal, runbook: string, input: unknown): Promise<void> {
    for (const { path, ref, repositoryUrl } of secretRefsIn(input, ['input'])) {
      const definition = await this.catalog.find(secretNameOf(ref));
      if (!definition) {
        throw new RequestValidationError('request body', [{ path, message: `no secret named ${secretNameOf(ref)} is configured` }]);
      }
      const refusal = secretUseRefusal(definition, { runbook, roles: principal.roles, repositoryUrl });
      if (refusal) throw new FieldForbiddenError(path, refusal);
    }
  }
}

interface SecretUseSite {
  path: PropertyKey[];
  ref: string;
  /** Set for a backup repository's password: `{ url, passwordRef }`. */
  repositoryUrl?: string;
}

/** Every `secret:` reference in a validated input, with where it is. */
function secretRefsIn(value: unknown, path: PropertyKey[]): SecretUseSite[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => secretRefsIn(item, [...path, i]));
  if (typeof value !== 'object' || value === null) return [];
  const object = value as Record<string, unknown>;
  return Object.entries(object).flatMap(([key, item]) => {
    if (typeof item === 'string' && item.startsWith(SECRET_REF_PREFIX)) {
      const repositoryUrl = key === 'passwordRef' && typeof object.url === 'string' ? object.url : undefined;
      return [{ path: [...path, key], ref: item, repositoryUrl }];
    }
    return secretRefsIn(item, [...path, key]);
  });
}
