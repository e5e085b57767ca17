import { beforeAll, describe, expect, it } from "vitest";
import { POSTGRES_PORT, REDIS_PORT, validateNetworkArgs, type NetworkArgs } from "../../components/network";
import type { StackName } from "../../runbook";
import { one, ofType, runProgram, type ProgramResult } from "../support/harness";

const EXPECTED = {
  staging: {
    cidr: "10.40.0.0/16",
    subnets: [
      ["network-private-a", "10.40.16.0/20", "eu-west-1a"],
      ["network-private-b", "10.40.32.0/20", "eu-west-1b"],
    ],
  },
  production: {
    cidr: "10.50.0.0/16",
    subnets: [
      ["network-private-a", "10.50.16.0/20", "eu-west-1a"],
      ["network-private-b", "10.50.32.0/20", "eu-west-1b"],
      ["network-private-c", "10.50.48.0/20", "eu-west-1c"],
    ],
  },
} as const;

function baseArgs(): NetworkArgs {
  return { stack: "staging", vpcCidr: "10.40.0.0/16", availabilityZoneCount: 2, appSecurityGroupIds: [], clusterNodeCidrs: ["10.40.0.0/16"], tags: {} };
}

const results = {} as Record<StackName, ProgramResult>;
beforeAll(async () => {
  results.staging = await runProgram({ stack: "staging" });
  results.production = await runProgram({ stack: "production" });
});

describe.each(["staging", "production"] as const)("Network in %s", (stack) => {
  const expected = EXPECTED[stack];
  const result = () => results[stack];

  it("is one component whose children are all named after it", () => {
    const component = one(result(), "runbook-platform:network:Network");
    expect(component).toMatchObject({ name: "network", parent: undefined });
    const kids = result().resources.filter((r) => r.parentName === "network");
    expect(kids.length).toBe(1 + expected.subnets.length + 2);
    for (const child of kids) expect(child.name.startsWith(`${component.name}-`), child.name).toBe(true);
  });

  it("creates a VPC with private subnets only, one per availability zone", () => {
    expect(one(result(), "aws:ec2/vpc:Vpc", "network-vpc").inputs).toMatchObject({
      cidrBlock: expected.cidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: `runbook-${stack}-vpc`, stack },
    });
    const subnets = ofType(result(), "aws:ec2/subnet:Subnet").filter((s) => s.parentName === "network");
    expect(subnets.map((s) => [s.name, s.inputs.cidrBlock, s.inputs.availabilityZone])).toEqual(expected.subnets.map((s) => [...s]));
    for (const subnet of subnets) expect(subnet.inputs.mapPublicIpOnLaunch).toBe(false);
    expect(result().outputs.privateSubnetIds).toHaveLength(expected.subnets.length);
  });

  it("has nothing that reaches or is reached from the internet", () => {
    for (const type of ["aws:ec2/internetGateway:InternetGateway", "aws:ec2/natGateway:NatGateway", "aws:ec2/eip:Eip", "aws:ec2/routeTable:RouteTable"]) {
      expect(ofType(result(), type).filter((r) => r.parentName === "network"), type).toEqual([]);
    }
  });

  it("admits PostgreSQL and Redis only from the cluster's node CIDRs, with no egress", () => {
    const database = one(result(), "aws:ec2/securityGroup:SecurityGroup", "network-database");
    const cache = one(result(), "aws:ec2/securityGroup:SecurityGroup", "network-cache");
    expect(database.inputs).toMatchObject({
      description: "PostgreSQL from the application only",
      ingress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: [expected.cidr], description: "PostgreSQL from the API and worker" }],
      egress: [],
      tags: { Name: `runbook-${stack}-database` },
    });
    expect(cache.inputs).toMatchObject({
      description: "Redis from the application only",
      ingress: [{ protocol: "tcp", fromPort: 6379, toPort: 6379, cidrBlocks: [expected.cidr], description: "Redis from the API and worker" }],
      egress: [],
      tags: { Name: `runbook-${stack}-cache` },
    });
    expect(database.inputs.vpcId).toBe(result().outputs.vpcId);
    expect(cache.inputs.vpcId).toBe(result().outputs.vpcId);
  });
});

describe("Network: what differs between staging and production", () => {
  it("spans two availability zones in staging and three in production, in separate address ranges", () => {
    const zones = (stack: StackName) => ofType(results[stack], "aws:ec2/subnet:Subnet").filter((s) => s.parentName === "network").map((s) => s.inputs.availabilityZone);
    expect(zones("staging")).toEqual(["eu-west-1a", "eu-west-1b"]);
    expect(zones("production")).toEqual(["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
    expect(one(results.staging, "aws:ec2/vpc:Vpc", "network-vpc").inputs.cidrBlock).toBe("10.40.0.0/16");
    expect(one(results.production, "aws:ec2/vpc:Vpc", "network-vpc").inputs.cidrBlock).toBe("10.50.0.0/16");
  });
});

describe("Network: settings from config", () => {
  it("uses an existing VPC and its subnets instead of creating them", async () => {
    const existing = { vpcId: "vpc-0abc12345def67890", privateSubnetIds: ["subnet-0a1b2c3d", "subnet-4e5f6a7b"] };
    const result = await runProgram({ stack: "staging", config: { network: { existing } } });
    expect(ofType(result, "aws:ec2/vpc:Vpc").filter((r) => r.parentName === "network")).toEqual([]);
    expect(ofType(result, "aws:ec2/subnet:Subnet").filter((r) => r.parentName === "network")).toEqual([]);
    expect(result.outputs).toMatchObject({ vpcId: existing.vpcId, privateSubnetIds: existing.privateSubnetIds });
    expect(one(result, "aws:ec2/securityGroup:SecurityGroup", "network-database").inputs.vpcId).toBe(existing.vpcId);
    expect(one(result, "aws:rds/subnetGroup:SubnetGroup", "database-subnets").inputs.subnetIds).toEqual(existing.privateSubnetIds);
    expect(one(result, "aws:elasticache/subnetGroup:SubnetGroup", "cache-subnets").inputs.subnetIds).toEqual(existing.privateSubnetIds);
  });

  it("admits the application's security groups rule by rule when given", async () => {
    const result = await runProgram({ stack: "staging", config: { network: { appSecurityGroupIds: ["sg-0aaa1111", "sg-0bbb2222"], clusterNodeCidrs: [] } } });
    expect(one(result, "aws:ec2/securityGroup:SecurityGroup", "network-database").inputs.ingress).toEqual([
      { protocol: "tcp", fromPort: POSTGRES_PORT, toPort: POSTGRES_PORT, securityGroups: ["sg-0aaa1111"], description: "PostgreSQL from the API and worker" },
      { protocol: "tcp", fromPort: POSTGRES_PORT, toPort: POSTGRES_PORT, securityGroups: ["sg-0bbb2222"], description: "PostgreSQL from the API and worker" },
    ]);
    expect(one(result, "aws:ec2/securityGroup:SecurityGroup", "network-cache").inputs.ingress).toEqual([
      { protocol: "tcp", fromPort: REDIS_PORT, toPort: REDIS_PORT, securityGroups: ["sg-0aaa1111"], description: "Redis from the API and worker" },
      { protocol: "tcp", fromPort: REDIS_PORT, toPort: REDIS_PORT, securityGroups: ["sg-0bbb2222"], description: "Redis from the API and worker" },
    ]);
  });
});

describe("validateNetworkArgs", () => {
  it("accepts the base args", () => {
    expect(() => validateNetworkArgs(baseArgs())).not.toThrow();
  });

  it("refuses a data tier open to everyone or to no one", () => {
    expect(() => validateNetworkArgs({ ...baseArgs(), clusterNodeCidrs: [] })).toThrow(
      "Network: set appSecurityGroupIds or clusterNodeCidrs; the data tier admits only the application.",
    );
    expect(() => validateNetworkArgs({ ...baseArgs(), clusterNodeCidrs: ["0.0.0.0/0"] })).toThrow(
      "Network: clusterNodeCidrs contains 0.0.0.0/0, which admits the whole internet; list the cluster's node CIDRs.",
    );
  });

  it("refuses a new VPC smaller than a /16 (its /20 subnets would fall outside it), not an existing one", () => {
    expect(() => validateNetworkArgs({ ...baseArgs(), vpcCidr: "10.40.0.0/20" })).toThrow(
      "Network: vpcCidr 10.40.0.0/20 is smaller than a /16; the private subnets are /20s at x.y.16.0, x.y.32.0 and x.y.48.0 of it.",
    );
    expect(() => validateNetworkArgs({ ...baseArgs(), vpcCidr: "10.32.0.0/12" })).not.toThrow();
    expect(() =>
      validateNetworkArgs({ ...baseArgs(), vpcCidr: "10.40.0.0/20", existing: { vpcId: "vpc-0abc1234", privateSubnetIds: ["subnet-0a1b2c3d", "subnet-4e5f6a7b"] } }),
    ).not.toThrow();
  });

  it("refuses a single availability zone, new or existing", () => {
    expect(() => validateNetworkArgs({ ...baseArgs(), availabilityZoneCount: 1 })).toThrow(
      "Network: availabilityZoneCount is 1; use at least 2 so the database and cache can fail over.",
    );
    expect(() => validateNetworkArgs({ ...baseArgs(), existing: { vpcId: "vpc-0abc1234", privateSubnetIds: ["subnet-0a1b2c3d"] } })).toThrow(
      "Network: existing.privateSubnetIds needs at least two subnets in different availability zones.",
    );
  });
});
