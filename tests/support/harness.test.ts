import { describe, expect, it } from "vitest";
import { redactedInputs, runProgram, stackConfig, type RecordedResource } from "./harness";

describe("mock-runtime harness", () => {
  it.each(["staging", "production"] as const)("runs the real program for %s through Pulumi's mock monitor", async (stack) => {
    const result = await runProgram({ stack });
    expect(result.stack).toBe(stack);
    const network = result.resources.find((r) => r.type === "runbook-platform:network:Network");
    expect(network).toMatchObject({ name: "network", custom: false, parent: undefined });
    const group = result.resources.find((r) => r.name === "network-database");
    expect(group).toMatchObject({ type: "aws:ec2/securityGroup:SecurityGroup", parent: network?.urn, parentName: "network", custom: true });
    expect(group?.urn).toBe(`urn:pulumi:${stack}::runbook-platform::runbook-platform:network:Network$aws:ec2/securityGroup:SecurityGroup::network-database`);
    expect(result.outputs.vpcId).toMatch(/^vpc-[0-9a-f]{17}$/);
  });

  it("keeps each run's resources and config apart", async () => {
    const [staging, production] = await Promise.all([runProgram({ stack: "staging" }), runProgram({ stack: "production" })]);
    const cidr = (resources: RecordedResource[]) => resources.find((r) => r.type === "aws:ec2/vpc:Vpc")?.inputs.cidrBlock;
    expect(cidr(staging.resources)).toBe("10.40.0.0/16");
    expect(cidr(production.resources)).toBeUndefined();
    expect(production.outputs.clusterName).toBe("platform-production");
  });

  it("merges overrides key by key onto the stack file and deletes on null", () => {
    const config = stackConfig("staging", { network: { vpcCidr: "10.99.0.0/16", reservedCidrs: null }, delivery: null });
    expect(JSON.parse(config["runbook-platform:network"] as string)).toEqual({
      vpcCidr: "10.99.0.0/16",
      availabilityZoneCount: 2,
    });
    expect(config["runbook-platform:delivery"]).toBeUndefined();
    expect(config["aws:region"]).toBe("eu-west-1");
  });

  it("redacts every secret path of a recorded resource", () => {
    const resource: RecordedResource = {
      type: "kubernetes:core/v1:Secret",
      name: "app-env",
      urn: "urn:x",
      parent: undefined,
      parentName: undefined,
      custom: true,
      inputs: { stringData: { DATABASE_URL: "postgresql://u:p@h/db", PLAIN: "x" }, list: ["a", "b"] },
      secretPaths: ["stringData.DATABASE_URL", "list[1]"],
      provider: undefined,
      options: {},
    };
    expect(redactedInputs(resource)).toEqual({ stringData: { DATABASE_URL: "[secret]", PLAIN: "x" }, list: ["a", "[secret]"] });
    expect(resource.inputs.stringData).toEqual({ DATABASE_URL: "postgresql://u:p@h/db", PLAIN: "x" });
  });
});
