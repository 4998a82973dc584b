import { DEFAULT_HOST_TIMEOUT_SECONDS, HOST_COMMAND_SECONDS, hostSchema } from './hosts';
import { securityPatchingInputSchema } from './security-patching';

describe('host timeouts and health checks', () => {
  it("a patch campaign's default host timeout outlasts a patch command and the package listings around it", () => {
    const { hostTimeoutSeconds } = securityPatchingInputSchema.parse({
      targets: { tags: ['lab'] },
      patches: [{ package: 'a', version: '1' }],
    });
    expect(hostTimeoutSeconds).toBe(DEFAULT_HOST_TIMEOUT_SECONDS);
    expect(hostTimeoutSeconds).toBeGreaterThan(HOST_COMMAND_SECONDS.patch + 2 * HOST_COMMAND_SECONDS.snapshot);
    expect(hostTimeoutSeconds).toBeGreaterThan(HOST_COMMAND_SECONDS.restore + 2 * HOST_COMMAND_SECONDS.snapshot);
  });

  it('takes per-host units and commands, refusing a unit name with shell characters and unknown fields', () => {
    const host = { name: 'db-1', address: '10.0.0.1', osFamily: 'debian', driver: 'local' };
    expect(hostSchema.parse({ ...host, health: { units: ['postgresql@15-main.service'] } }).health).toEqual({
      units: ['postgresql@15-main.service'],
      commands: [],
    });
    const bad = hostSchema.safeParse({ ...host, health: { units: ['nginx; reboot'] } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0].path).toEqual(['health', 'units', 0]);
    expect(hostSchema.safeParse({ ...host, health: { unit: ['nginx'] } }).success).toBe(false);
  });
});
