import { describe, expect, it } from "vitest";
import { kubernetesNamespaceDefaultDeny as policy } from "../../../../../../policies/kubernetes/networking/v1/networkPolicy/defaultDeny";
import { fixture, named, run, violation } from "../../../../fixture";

const MESSAGE = "services-api: namespace runbook has no default-deny NetworkPolicy; every pod can reach and be reached by anything.";

describe("kubernetes-namespace-default-deny", () => {
  it("passes the happy path", async () => {
    expect(await run(policy, fixture())).toEqual([]);
  });
  it.each([
    ["only ingress denied", { podSelector: {}, policyTypes: ["Ingress"] }],
    ["a policy that selects some pods", { podSelector: { matchLabels: { app: "api" } }, policyTypes: ["Ingress", "Egress"] }],
    ["a policy that allows everything out", { podSelector: {}, policyTypes: ["Ingress", "Egress"], egress: [{}] }],
  ])("flags %s", async (_label, spec) => {
    const plan = fixture();
    named(plan, "services-default-deny").inputs.spec = spec;
    expect(await run(policy, plan)).toEqual([violation(policy, "services-api", MESSAGE)]);
  });
  it("flags a default deny in another namespace", async () => {
    const plan = fixture();
    named(plan, "services-default-deny").inputs.metadata = { name: "default-deny", namespace: "other" };
    expect(await run(policy, plan)).toEqual([violation(policy, "services-api", MESSAGE)]);
  });
});
