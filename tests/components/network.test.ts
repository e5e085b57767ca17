import { beforeAll, describe, expect, it } from "vitest";
import { POSTGRES_PORT, REDIS_PORT } from "../../components/network";
import type { StackName } from "../../runbook";
import { defaultWorld } from "../support/awsWorld";
import { ACCOUNT_ID, one, runProgram, type ProgramResult } from "../support/harness";

const results = {} as Record<StackName, ProgramResult>;
beforeAll(async () => {
  results.staging = await runProgram({ stack: "staging" });
  results.production = await runProgram({ stack: "production" });
});

const world = defaultWorld(ACCOUNT_ID, "eu-west-1");

describe.each(["staging", "production"] as const)("the data tier's security groups in %s", (stack) => {
  const result = () => results[stack];

  it("are one component whose children are all named after it", () => {
    const kids = result().resources.filter((r) => r.parentName === "network");
    expect(kids.map((r) => r.name).sort()).toEqual(["network-cache", "network-database"]);
  });

  it.each([
    ["network-database", POSTGRES_PORT, "PostgreSQL"],
    ["network-cache", REDIS_PORT, "Redis"],
  ] as const)("%s admits its port from the cluster's security group only, by reference, in the cluster's VPC, with no egress", (name, port, engine) => {
    const group = one(result(), "aws:ec2/securityGroup:SecurityGroup", name);
    expect(group.inputs).toMatchObject({
      vpcId: result().outputs.vpcId,
      description: `${engine} from the cluster only`,
      ingress: [
        { protocol: "tcp", fromPort: port, toPort: port, securityGroups: [result().outputs.clusterSecurityGroupId], description: `${engine} from the cluster's security group (API and worker)` },
        // PostgreSQL also admits the restore drill's validation function (its own group, by reference).
        ...(name === "network-database"
          ? [{ protocol: "tcp", fromPort: port, toPort: port, securityGroups: (one(result(), "aws:lambda/function:Function").inputs.vpcConfig as { securityGroupIds: string[] }).securityGroupIds, description: "PostgreSQL from the restore drill's validation function" }]
          : []),
      ],
      egress: [],
      tags: { Name: `runbook-${stack}-${name.replace("network-", "")}` },
    });
    expect(JSON.stringify(group.inputs.ingress)).not.toContain("cidrBlocks");
  });
});

describe("where the cluster security group comes from", () => {
  it("staging: the EKS cluster this stack creates (a dependency on it, not a copied id)", () => {
    const eks = one(results.staging, "aws:eks/cluster:Cluster");
    const group = one(results.staging, "aws:ec2/securityGroup:SecurityGroup", "network-database");
    expect(group.propertyDependencies?.ingress).toContain(eks.urn);
  });
  it("production: the existing cluster's, as the account reports it", () => {
    const cluster = world.clusters[0];
    expect(one(results.production, "aws:ec2/securityGroup:SecurityGroup", "network-database").inputs.vpcId).toBe(cluster?.vpcId);
    expect(results.production.outputs.clusterSecurityGroupId).toBe(cluster?.clusterSecurityGroupId);
  });
});
