import { describe, expect, it } from "vitest";
import { awsEc2SecurityGroupDataTierNotOpen as notOpen, awsEc2SecurityGroupDataTierWithinVpc as withinVpc } from "../../../../../policies/aws/ec2/securityGroup/dataTierIngress";
import { fixture, named, run, violation } from "../../../fixture";

const withRule = (rule: Record<string, unknown>) => {
  const plan = fixture();
  named(plan, "network-database").inputs.ingress = [rule];
  return plan;
};

describe("aws-ec2-security-group-data-tier-not-open", () => {
  it("passes the happy path", async () => {
    expect(await run(notOpen, fixture())).toEqual([]);
  });
  it.each([
    [{ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["0.0.0.0/0"] }, "ingress admits port 5432 from 0.0.0.0/0; the data tier admits the cluster's security group only."],
    [{ protocol: "tcp", fromPort: 6000, toPort: 6400, ipv6CidrBlocks: ["::/0"] }, "ingress admits port 6379 from ::/0; the data tier admits the cluster's security group only."],
    [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }, "ingress admits port 5432 from 0.0.0.0/0; the data tier admits the cluster's security group only."],
  ])("flags %j", async (rule, message) => {
    const findings = await run(notOpen, withRule(rule));
    expect(findings[0]).toEqual(violation(notOpen, "network-database", message));
  });
  it("leaves a web port open to the world to other policies", async () => {
    expect(await run(notOpen, withRule({ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }))).toEqual([]);
  });
});

describe("aws-ec2-security-group-data-tier-within-vpc", () => {
  it("passes the happy path and a CIDR inside the VPC", async () => {
    expect(await run(withinVpc, fixture())).toEqual([]);
    expect(await run(withinVpc, withRule({ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["10.50.0.0/19"] }))).toEqual([]);
  });
  it("flags a CIDR outside the group's VPC", async () => {
    expect(await run(withinVpc, withRule({ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["10.60.0.0/16"] }))).toEqual([
      violation(withinVpc, "network-database", "network-database: ingress admits port 5432 from 10.60.0.0/16, outside its VPC cluster-vpc (10.50.0.0/16)."),
    ]);
  });
});
