import { validateResourceOfType } from "@pulumi/policy";
import { Deployment } from "@pulumi/kubernetes/apps/v1/deployment";
import type { RunbookResourcePolicy } from "../../../../lib/policy";
import { allContainers } from "./containers";

/** Requests let the scheduler place pods and the HPA scale on CPU; limits stop one pod starving the node. */
const REQUIRED = [
  ["requests", "cpu"],
  ["requests", "memory"],
  ["limits", "cpu"],
  ["limits", "memory"],
] as const;

/**
 * `kubernetes-apps-v1-deployment-resources`: every container sets CPU and memory requests and
 * limits. Severity medium. Protects "Backend API: stateless Node.js service" and "Worker: dedicated
 * `npm run worker` process" (neither starves the other).
 */
export const kubernetesDeploymentResources: RunbookResourcePolicy = {
  name: "kubernetes-apps-v1-deployment-resources",
  description: "Every Deployment container sets requests and limits for CPU and memory.",
  severity: "medium",
  runbookLine: "Deployment topology: Backend API: stateless Node.js service; Worker: dedicated `npm run worker` process",
  remediationSteps: "Set resources.requests and resources.limits (cpu, memory) from services.apiResources / workerResources.",
  validateResource: validateResourceOfType(Deployment, (deployment, _args, reportViolation) => {
    for (const container of allContainers(deployment)) {
      const resources = container.resources as { requests?: Record<string, unknown>; limits?: Record<string, unknown> } | undefined;
      const missing = REQUIRED.filter(([kind, resource]) => {
        const value = resources?.[kind]?.[resource];
        return value === undefined || value === "" || value === "0" || value === 0;
      }).map(([kind, resource]) => `${kind}.${resource}`);
      if (missing.length > 0) {
        reportViolation(`container ${container.name}: resources ${missing.join(", ")} not set.`);
      }
    }
  }),
};
