import { describe, expect, it } from "vitest";
import { kubernetesDeploymentNonRoot as policy } from "../../../../../../policies/kubernetes/apps/v1/deployment/nonRoot";
import { fixture, named, run, violation } from "../../../../fixture";

type PodSpec = { securityContext?: Record<string, unknown>; containers: Record<string, unknown>[] };
const withPod = (change: (pod: PodSpec) => void) => {
  const plan = fixture();
  change((named(plan, "services-api").inputs.spec as { template: { spec: PodSpec } }).template.spec);
  return plan;
};

describe("kubernetes-apps-v1-deployment-non-root", () => {
  it("passes the happy path", async () => {
    expect(await run(policy, fixture())).toEqual([]);
  });
  it("flags a pod without runAsNonRoot", async () => {
    expect(await run(policy, withPod((pod) => delete pod.securityContext))).toEqual([
      violation(policy, "services-api", "container api: runAsNonRoot is not set; set it to true on the pod or the container."),
    ]);
  });
  it("lets a container override the pod, both ways", async () => {
    expect(await run(policy, withPod((pod) => ((pod.containers[0] as Record<string, unknown>).securityContext = { runAsNonRoot: false })))).toEqual([
      violation(policy, "services-api", "container api: runAsNonRoot is false; set it to true on the pod or the container."),
    ]);
    expect(
      await run(
        policy,
        withPod((pod) => {
          delete pod.securityContext;
          (pod.containers[0] as Record<string, unknown>).securityContext = { runAsNonRoot: true, runAsUser: 10001 };
        }),
      ),
    ).toEqual([]);
  });
  it("flags runAsUser 0", async () => {
    expect(await run(policy, withPod((pod) => (pod.securityContext = { runAsNonRoot: true, runAsUser: 0 })))).toEqual([
      violation(policy, "services-api", "container api: runAsUser is 0 (root)."),
    ]);
  });
});
