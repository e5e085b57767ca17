import { describe, expect, it } from "vitest";
import { kubernetesDeploymentImageDigest as policy } from "../../../../../../policies/kubernetes/apps/v1/deployment/imageDigest";
import { fixture, named, run, violation } from "../../../../fixture";

const TAGGED = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/runbook-api:1.4.2";
const tagged = () => {
  const plan = fixture();
  const spec = named(plan, "services-api").inputs.spec as { template: { spec: { containers: Record<string, unknown>[]; initContainers?: Record<string, unknown>[] } } };
  (spec.template.spec.containers[0] as Record<string, unknown>).image = TAGGED;
  return plan;
};

describe("kubernetes-apps-v1-deployment-image-digest", () => {
  it("passes the happy path", async () => {
    expect(await run(policy, fixture())).toEqual([]);
  });
  it("flags a tag in production, not in staging", async () => {
    expect(await run(policy, tagged(), "production")).toEqual([
      violation(policy, "services-api", `container api: image ${TAGGED} is not pinned by digest; production runs the exact artifact staging tested.`),
    ]);
    expect(await run(policy, tagged(), "staging")).toEqual([]);
  });
  it("checks init containers too", async () => {
    const plan = fixture();
    const spec = named(plan, "services-api").inputs.spec as { template: { spec: Record<string, unknown> } };
    spec.template.spec.initContainers = [{ name: "migrate", image: TAGGED }];
    expect(await run(policy, plan)).toEqual([
      violation(policy, "services-api", `container migrate: image ${TAGGED} is not pinned by digest; production runs the exact artifact staging tested.`),
    ]);
  });
});
