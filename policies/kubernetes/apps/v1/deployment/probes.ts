import { validateResourceOfType } from "@pulumi/policy";
import { Deployment } from "@pulumi/kubernetes/apps/v1/deployment";
import { HEALTH_PATHS } from "../../../../../runbook";
import type { RunbookResourcePolicy } from "../../../../lib/policy";
import { appContainers } from "./containers";

const RUNBOOK_LINE = "Incident response quick steps: 1. Confirm `/health/live` and `/health/ready`";

/**
 * `kubernetes-apps-v1-deployment-readiness-probe`: every container is taken out of the Service when
 * `/health/ready` fails. Severity high. Protects "Confirm `/health/live` and `/health/ready`".
 */
export const kubernetesDeploymentReadinessProbe: RunbookResourcePolicy = {
  name: "kubernetes-apps-v1-deployment-readiness-probe",
  description: `Every Deployment container has an HTTP readiness probe on ${HEALTH_PATHS.ready}.`,
  severity: "high",
  runbookLine: RUNBOOK_LINE,
  remediationSteps: `Add readinessProbe.httpGet { path: "${HEALTH_PATHS.ready}", port } to the container.`,
  validateResource: validateResourceOfType(Deployment, (deployment, _args, reportViolation) => {
    for (const container of appContainers(deployment)) {
      const path = container.readinessProbe?.httpGet?.path;
      if (path !== HEALTH_PATHS.ready) {
        reportViolation(`container ${container.name}: readinessProbe httpGet path is ${path ?? "not set"}; expected ${HEALTH_PATHS.ready}.`);
      }
    }
  }),
};

/**
 * `kubernetes-apps-v1-deployment-liveness-probe`: every container is restarted when `/health/live`
 * fails. Severity high. Protects "Confirm `/health/live` and `/health/ready`".
 */
export const kubernetesDeploymentLivenessProbe: RunbookResourcePolicy = {
  name: "kubernetes-apps-v1-deployment-liveness-probe",
  description: `Every Deployment container has an HTTP liveness probe on ${HEALTH_PATHS.live}.`,
  severity: "high",
  runbookLine: RUNBOOK_LINE,
  remediationSteps: `Add livenessProbe.httpGet { path: "${HEALTH_PATHS.live}", port } to the container.`,
  validateResource: validateResourceOfType(Deployment, (deployment, _args, reportViolation) => {
    for (const container of appContainers(deployment)) {
      const path = container.livenessProbe?.httpGet?.path;
      if (path !== HEALTH_PATHS.live) {
        reportViolation(`container ${container.name}: livenessProbe httpGet path is ${path ?? "not set"}; expected ${HEALTH_PATHS.live}.`);
      }
    }
  }),
};
