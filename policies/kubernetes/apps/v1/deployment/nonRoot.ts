import { validateResourceOfType } from "@pulumi/policy";
import { Deployment } from "@pulumi/kubernetes/apps/v1/deployment";
import type { RunbookResourcePolicy } from "../../../../lib/policy";
import { allContainers, podSpecOf } from "./containers";

/**
 * `kubernetes-apps-v1-deployment-non-root`: every container runs as a non-root user (runAsNonRoot
 * on the pod or the container, and never runAsUser 0). Severity high. Protects "Backend API:
 * stateless Node.js service".
 */
export const kubernetesDeploymentNonRoot: RunbookResourcePolicy = {
  name: "kubernetes-apps-v1-deployment-non-root",
  description: "Every Deployment container runs as non-root.",
  severity: "high",
  runbookLine: "Deployment topology: Backend API: stateless Node.js service",
  remediationSteps: "Set securityContext.runAsNonRoot: true and a non-zero runAsUser on the pod.",
  validateResource: validateResourceOfType(Deployment, (deployment, _args, reportViolation) => {
    const pod = podSpecOf(deployment)?.securityContext;
    for (const container of allContainers(deployment)) {
      const own = container.securityContext;
      const nonRoot = own?.runAsNonRoot ?? pod?.runAsNonRoot;
      const user = own?.runAsUser ?? pod?.runAsUser;
      if (nonRoot !== true) {
        reportViolation(`container ${container.name}: runAsNonRoot is ${nonRoot ?? "not set"}; set it to true on the pod or the container.`);
      } else if (user === 0) {
        reportViolation(`container ${container.name}: runAsUser is 0 (root).`);
      }
    }
  }),
};
