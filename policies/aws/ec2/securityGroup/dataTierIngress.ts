import type { PolicyResource } from "@pulumi/policy";
import { validateResourceOfType } from "@pulumi/policy";
import { SecurityGroup } from "@pulumi/aws/ec2/securityGroup";
import { Vpc } from "@pulumi/aws/ec2/vpc";
import { cidrContains } from "../../../lib/cidr";
import { pointingAt, type RunbookResourcePolicy, type RunbookStackPolicy } from "../../../lib/policy";

/** PostgreSQL's and Redis's ports: what makes a security group part of the data tier. */
const DATA_TIER_PORTS = [5432, 6379] as const;

interface IngressRule {
  protocol?: string;
  fromPort?: number;
  toPort?: number;
  cidrBlocks?: string[];
  ipv6CidrBlocks?: string[];
}

/** The rules of a security group that open a data-tier port (protocol -1 opens every port). */
function dataTierRules(ingress: unknown): { port: number; rule: IngressRule }[] {
  const rules = Array.isArray(ingress) ? (ingress as IngressRule[]) : [];
  return rules.flatMap((rule) =>
    DATA_TIER_PORTS.filter((port) => rule.protocol === "-1" || rule.protocol === "all" || ((rule.fromPort ?? 0) <= port && port <= (rule.toPort ?? 0))).map((port) => ({ port, rule })),
  );
}

/**
 * `aws-ec2-security-group-data-tier-not-open`: no security group opens PostgreSQL or Redis to the
 * whole internet (0.0.0.0/0 or ::/0). Severity critical. Protects "Database: managed PostgreSQL" and
 * "Shared cache: Redis", reached only by the API and worker.
 */
export const awsEc2SecurityGroupDataTierNotOpen: RunbookResourcePolicy = {
  name: "aws-ec2-security-group-data-tier-not-open",
  description: "No security group admits PostgreSQL (5432) or Redis (6379) from 0.0.0.0/0 or ::/0.",
  severity: "critical",
  runbookLine: "Deployment topology: Database: managed PostgreSQL; Shared cache: Redis",
  remediationSteps: "Admit the data tier's port from the cluster's security group (securityGroups: [clusterSecurityGroupId]), never from a CIDR open to the world.",
  validateResource: validateResourceOfType(SecurityGroup, (group, _args, reportViolation) => {
    for (const { port, rule } of dataTierRules(group.ingress)) {
      const open = [...(rule.cidrBlocks ?? []), ...(rule.ipv6CidrBlocks ?? [])].find((cidr) => cidr.endsWith("/0"));
      if (open) reportViolation(`ingress admits port ${port} from ${open}; the data tier admits the cluster's security group only.`);
    }
  }),
};

/**
 * `aws-ec2-security-group-data-tier-within-vpc`: a data-tier rule that admits a CIDR admits only
 * addresses of the security group's own VPC (checked when the VPC is in the stack). Severity high.
 * Protects the same runbook lines: PostgreSQL and Redis stay private to the VPC.
 */
export const awsEc2SecurityGroupDataTierWithinVpc: RunbookStackPolicy = {
  name: "aws-ec2-security-group-data-tier-within-vpc",
  description: "Security group rules on 5432 and 6379 admit no CIDR outside the group's VPC.",
  severity: "high",
  runbookLine: "Deployment topology: Database: managed PostgreSQL; Shared cache: Redis",
  remediationSteps: "Admit the cluster's security group instead of a CIDR; a CIDR outside the VPC reaches the data tier only through a peering or VPN the runbook does not describe.",
  validateStack: (args, reportViolation) => {
    const groups = args.resources.filter((r) => r.isType(SecurityGroup));
    for (const vpc of args.resources.filter((r) => r.isType(Vpc))) {
      const vpcCidr = vpc.props.cidrBlock;
      if (typeof vpcCidr !== "string") continue;
      for (const group of pointingAt(groups, "vpcId", vpc, ["id"]) as PolicyResource[]) {
        for (const { port, rule } of dataTierRules(group.props.ingress)) {
          for (const cidr of rule.cidrBlocks ?? []) {
            if (!cidrContains(vpcCidr, cidr)) reportViolation(`${group.name}: ingress admits port ${port} from ${cidr}, outside its VPC ${vpc.name} (${vpcCidr}).`, group.urn);
          }
        }
      }
    }
  },
};
