import { describe, expect, it } from "vitest";
import { kubernetesDeploymentResources as policy } from "../../../../../../policies/kubernetes/apps/v1/deployment/resources";
import { fixture, named, run, violation } from "../../../../fixture";

const withResources = (resources: unknown) => {
  const plan = fixture();
  const spec = named(plan, "services-api").inputs.spec as { template: { spec: { containers: Record<string, unknown>[] } } };
  (spec.template.spec.containers[0] as Record<string, unknown>).resources = resources;
  return plan;
};

describe("kubernetes-apps-v1-deployment-resources", () => {
  it("passes the happy path", async () => {
    expect(await run(policy, fixture())).toEqual([]);
  });
  it("flags no resources at all", async () => {
    expect(await run(policy, withResources(undefined))).toEqual([
      violation(policy, "services-api", "container api: resources requests.cpu, requests.memory, limits.cpu, limits.memory not set."),
    ]);
  });
  it("flags a missing memory limit and a zero CPU request", async () => {
    expect(await run(policy, withResources({ requests: { cpu: "0", memory: "256Mi" }, limits: { cpu: "1" } }))).toEqual([
      violation(policy, "services-api", "container api: resources requests.cpu, limits.memory not set."),
    ]);
  });
});
