import { Injectable } from '@nestjs/common';
import { hasAnyRole, type Principal, type RunbookDefinition } from '@runbooks/contracts';
import { FieldForbiddenError } from '../http/errors';
import { IncidentsService } from '../incidents/incidents.service';
import { InventoryService } from '../inventory/inventory.service';
import { MaintenanceService, type WaitsForWindow } from '../maintenance/maintenance.service';
import { PolicyService } from '../policy/policy.service';
import { SecretsService } from '../secrets/secrets.service';
import { ReproductionsService } from '../software-conflict/reproductions.service';

/**
 * What a launch or a schedule must pass before Temporal is asked: the rules each runbook's
 * definition declares (admission), so no API service branches on runbook names.
 */
@Injectable()
export class RunAdmission {
  constructor(
    private readonly inventory: InventoryService,
    private readonly maintenance: MaintenanceService,
    private readonly policy: PolicyService,
    private readonly secrets: SecretsService,
    private readonly incidents: IncidentsService,
    private readonly reproductions: ReproductionsService,
  ) {}

  /**
   * Refuses a secret the caller or runbook may not use, a field the caller may not set or a target the policy does not allow (403 naming it) and hosts the inventory lacks or that cannot serve the run (400);
   * answers when the run would wait for its maintenance window (a closed window does not refuse).
   */
  async admit(
    principal: Principal,
    runbook: RunbookDefinition,
    input: unknown,
    options: { whenClosed?: boolean } = {},
  ): Promise<WaitsForWindow | undefined> {
    for (const { field, roles, why } of runbook.admission?.restrictedFields?.(input as never) ?? []) {
      if (!hasAnyRole(principal, roles)) {
        const who = roles.length === 1 ? `${/^[aeiou]/.test(roles[0]) ? 'an' : 'a'} ${roles[0]}` : `one of ${roles.join(', ')}`;
        throw new FieldForbiddenError(['input', field], `only ${who} may ${why} (${principal.id} has ${principal.roles.join(', ')})`);
      }
    }
    await this.secrets.refuseDisallowedSecrets(principal, runbook.name, input);
    await this.policy.refuseTargetsOutsidePolicy(runbook, input);
    await this.inventory.refuseUnfitHosts(runbook, input);
    await this.incidents.refuseUnknownNames(runbook, input);
    await this.reproductions.refuseUnknownReproduction(runbook, input);
    return this.maintenance.admission(runbook, input, options);
  }
}
