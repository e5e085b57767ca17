import { describe, expect, it } from "vitest";
import { awsEksClusterPublicEndpointRestricted as policy } from "../../../../../policies/aws/eks/cluster/publicEndpoint";
import { fixture, named, run, violation } from "../../../fixture";

const withVpcConfig = (value: Record<string, unknown>) => {
  const plan = fixture();
  named(plan, "cluster-eks").inputs.vpcConfig = value;
  return plan;
};

describe("aws-eks-cluster-public-endpoint-restricted", () => {
  it("passes the happy path and a private-only endpoint", async () => {
    expect(await run(policy, fixture())).toEqual([]);
    expect(await run(policy, withVpcConfig({ endpointPrivateAccess: true, endpointPublicAccess: false }))).toEqual([]);
  });
  it.each([
    [{ endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] }, "the public API endpoint is open to 0.0.0.0/0; limit vpcConfig.publicAccessCidrs or set endpointPublicAccess: false."],
    [{ endpointPublicAccess: true }, "the public API endpoint is open to 0.0.0.0/0 (the default when publicAccessCidrs is unset); limit vpcConfig.publicAccessCidrs or set endpointPublicAccess: false."],
    [{}, "the public API endpoint is open to 0.0.0.0/0 (the default when publicAccessCidrs is unset); limit vpcConfig.publicAccessCidrs or set endpointPublicAccess: false."],
  ])("flags %j in production", async (value, message) => {
    expect(await run(policy, withVpcConfig(value), "production")).toEqual([violation(policy, "cluster-eks", message)]);
  });
  it("does not apply to staging", async () => {
    expect(await run(policy, withVpcConfig({ endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] }), "staging")).toEqual([]);
  });
});
