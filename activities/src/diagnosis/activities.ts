import { findingsOf, probesOf, type Diagnosis, type DiagnosisPlan } from '@runbooks/contracts';
import { withHeartbeat } from '../activity-context';
import { runProbes } from './probes';

export interface DiagnoseInput {
  plan: DiagnosisPlan;
}

export interface DiagnosisActivities {
  /** Runs every probe of the plan (read-only) and draws the findings; never throws for what a probe saw. */
  diagnose(input: DiagnoseInput): Promise<Diagnosis>;
}

export function createDiagnosisActivities(): DiagnosisActivities {
  return {
    diagnose: ({ plan }) => {
      let done = 0;
      const probes = probesOf(plan);
      return withHeartbeat(
        () => ({ probesDone: done, probes: probes.length }),
        async (signal) => {
          const at = new Date().toISOString();
          const results = await runProbes(probes, {
            timeoutSeconds: plan.probeTimeoutSeconds,
            parallelism: plan.parallelism,
            signal,
            onResult: () => void done++,
          });
          return { at, results, ...findingsOf(plan, results) };
        },
      );
    },
  };
}
