import type * as k8s from "@pulumi/kubernetes/types/input";
import type { Unwrap } from "@pulumi/pulumi";

export type Container = Unwrap<k8s.core.v1.Container>;
export type PodSpec = Unwrap<k8s.core.v1.PodSpec>;

/** The pod spec of a Deployment's props (`spec.template.spec`). */
export function podSpecOf(deployment: { spec?: Unwrap<k8s.apps.v1.DeploymentSpec> }): PodSpec | undefined {
  return deployment.spec?.template?.spec;
}

/** The long-running containers (init containers exit before the pod is ready, so probes do not apply). */
export function appContainers(deployment: { spec?: Unwrap<k8s.apps.v1.DeploymentSpec> }): Container[] {
  return podSpecOf(deployment)?.containers ?? [];
}

/** Every container, init containers included (they run code and pull images too). */
export function allContainers(deployment: { spec?: Unwrap<k8s.apps.v1.DeploymentSpec> }): Container[] {
  const pod = podSpecOf(deployment);
  return [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])];
}
