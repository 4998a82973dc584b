import type { Host, HostBmc } from '@runbooks/contracts';
import { execFile } from 'node:child_process';
import type { SecretResolver } from '../secrets/resolve-secret';
import { HostFailureType, nonRetryable, retryable } from './failures';

/** The chassis power as the BMC reports it. */
export type ChassisPower = 'on' | 'off';

export interface IpmiPowerOptions {
  /** Resolves `bmc.passwordRef`. */
  secrets: SecretResolver;
  /** The ipmitool binary (Debian package ipmitool). */
  ipmitool?: string;
  /** How long one ipmitool call may take, its own retries included. Default 30 s. */
  callTimeoutMs?: number;
}

const DEFAULT_PORT = 623;
/** RMCP+ cipher suite 3: RAKP-HMAC-SHA1, HMAC-SHA1-96 integrity, AES-CBC-128 confidentiality; the one nearly every BMC offers. */
const DEFAULT_CIPHER_SUITE = 3;
const DEFAULT_CALL_TIMEOUT_MS = 30_000;

/**
 * Out-of-band power of a host through its baseboard management controller: IPMI v2 over the LAN
 * (RMCP+, ipmitool's `lanplus` interface). The password is resolved from the host's
 * `bmc.passwordRef` for each call and handed to ipmitool in its environment (`-E`), never on a
 * command line another user of the worker's machine could read.
 */
export class IpmiPower {
  private readonly secrets: SecretResolver;
  private readonly ipmitool: string;
  private readonly callTimeoutMs: number;

  constructor(options: IpmiPowerOptions) {
    this.secrets = options.secrets;
    this.ipmitool = options.ipmitool ?? 'ipmitool';
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  }

  async status(host: Host, signal?: AbortSignal): Promise<ChassisPower> {
    const out = await this.chassisPower(host, 'status', signal);
    const state = /Chassis Power is (on|off)/i.exec(out)?.[1]?.toLowerCase();
    if (state !== 'on' && state !== 'off') {
      throw retryable(`${where(host)}: the BMC's power status is unreadable: ${out.trim().slice(0, 200)}`, HostFailureType.commandFailed, {
        host: host.name,
      });
    }
    return state;
  }

  /** Asks the BMC for an orderly shutdown (ACPI soft-off: the host's OS shuts itself down). */
  async softOff(host: Host, signal?: AbortSignal): Promise<void> {
    await this.chassisPower(host, 'soft', signal);
  }

  async on(host: Host, signal?: AbortSignal): Promise<void> {
    await this.chassisPower(host, 'on', signal);
  }

  private async chassisPower(host: Host, command: 'status' | 'soft' | 'on', signal?: AbortSignal): Promise<string> {
    const bmc = bmcOf(host);
    const password = await this.secrets.resolve(bmc.passwordRef);
    const args = [
      '-I',
      'lanplus',
      '-C',
      String(bmc.cipherSuite ?? DEFAULT_CIPHER_SUITE),
      '-H',
      bmc.address,
      '-p',
      String(bmc.port ?? DEFAULT_PORT),
      '-U',
      bmc.user,
      '-E',
      // Seconds per try, and tries: ipmitool's own, inside the call's time limit.
      '-N',
      '3',
      '-R',
      '3',
      'chassis',
      'power',
      command,
    ];
    return new Promise<string>((resolve, reject) => {
      execFile(
        this.ipmitool,
        args,
        {
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', IPMI_PASSWORD: password },
          timeout: this.callTimeoutMs,
          signal,
          encoding: 'utf8',
        },
        (error, stdout, stderr) => {
          if (!error) return resolve(stdout);
          if (signal?.aborted) return reject(error);
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
            return reject(
              nonRetryable(
                `${where(host)}: ${this.ipmitool} is not installed on the worker (Debian package ipmitool)`,
                HostFailureType.misconfigured,
                { host: host.name },
              ),
            );
          }
          const said = redact(`${stderr}\n${stdout}`, password).trim().split('\n').filter(Boolean).slice(-3).join('; ');
          // ipmitool says the same when the BMC does not answer and when it refuses the user: retried, within the host's attempts.
          reject(
            retryable(`${where(host)}: chassis power ${command} failed: ${said || error.message}`, HostFailureType.unreachable, {
              host: host.name,
            }),
          );
        },
      );
    });
  }
}

function bmcOf(host: Host): HostBmc {
  if (!host.bmc)
    throw nonRetryable(`host ${host.name}: the inventory gives no bmc settings`, HostFailureType.misconfigured, { host: host.name });
  return host.bmc;
}

function where(host: Host): string {
  return `host ${host.name} (BMC ${host.bmc?.address}:${host.bmc?.port ?? DEFAULT_PORT})`;
}

function redact(text: string, secret: string): string {
  return secret ? text.split(secret).join('[REDACTED]') : text;
}
