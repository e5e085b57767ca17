import { validateResourceOfType } from "@pulumi/policy";
import { Deployment } from "@pulumi/kubernetes/apps/v1/deployment";
import { HEALTH_PATHS } from "../../../../lib/runbook";
import type { RunbookResourcePolicy } from "../../../../lib/policy";
import { appContainers } from "./containers";

const RUNBOOK_LINE = "Incident response quick steps: 1. Confirm `/health/live` and `/health/ready`";

/** One probe policy: the readiness and liveness checks differ only in the probe and its path. */
function probePolicy(probe: "readiness" | "liveness", path: string, consequence: string): RunbookResourcePolicy {
  const field = `${probe}Probe` as const;
  return {
    name: `kubernetes-apps-v1-deployment-${probe}-probe`,
    description: `Every Deployment container has an HTTP ${probe} probe on ${path}.`,
    severity: "high",
    runbookLine: RUNBOOK_LINE,
    remediationSteps: `Add ${field}.httpGet { path: "${path}", port } to the container; ${consequence}.`,
    validateResource: validateResourceOfType(Deployment, (deployment, _args, reportViolation) => {
      for (const container of appContainers(deployment)) {
        const got = container[field]?.httpGet?.path;
        if (got !== path) reportViolation(`container ${container.name}: ${field} httpGet path is ${got ?? "not set"}; expected ${path}.`);
      }
    }),
  };
}

/**
 * `kubernetes-apps-v1-deployment-readiness-probe`: every container is taken out of the Service when
 * `/health/ready` fails. Severity high. Protects "Confirm `/health/live` and `/health/ready`".
 */
export const kubernetesDeploymentReadinessProbe = probePolicy("readiness", HEALTH_PATHS.ready, "a pod that is not ready then receives no traffic");

/**
 * `kubernetes-apps-v1-deployment-liveness-probe`: every container is restarted when `/health/live`
 * fails. Severity high. Protects "Confirm `/health/live` and `/health/ready`".
 */
export const kubernetesDeploymentLivenessProbe = probePolicy("liveness", HEALTH_PATHS.live, "a hung process is then restarted");
