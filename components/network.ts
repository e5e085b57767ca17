import * as pulumi from "@pulumi/pulumi";
import * as ec2 from "@pulumi/aws/ec2";
import { getAvailabilityZonesOutput } from "@pulumi/aws/getAvailabilityZones";
import type * as inputs from "@pulumi/aws/types/input";
import type { StackName } from "../runbook";
import { physicalName } from "./naming";

/** PostgreSQL's and Redis's ports, the only ones the data tier opens. */
export const POSTGRES_PORT = 5432;
export const REDIS_PORT = 6379;

export interface NetworkArgs {
  /** Stack the network belongs to; part of every physical name. */
  stack: StackName;
  /** CIDR block of a new VPC. Changing it replaces the VPC and everything in it. */
  vpcCidr: string;
  /** How many availability zones get a private subnet (at least 2, so RDS and ElastiCache can fail over). */
  availabilityZoneCount: number;
  /**
   * An existing VPC and its private subnets, used instead of creating a VPC.
   * @example { vpcId: "vpc-0abc12345def67890", privateSubnetIds: ["subnet-0a1b2c3d", "subnet-4e5f6a7b"] }
   */
  existing?: { vpcId: string; privateSubnetIds: string[] };
  /** Security groups of the application (e.g. EKS pods or nodes) allowed to reach PostgreSQL and Redis. */
  appSecurityGroupIds: string[];
  /** Node CIDRs of the cluster allowed to reach PostgreSQL and Redis. */
  clusterNodeCidrs: string[];
  /** Tags for every taggable child. */
  tags: Record<string, string>;
}

/** Throws a fixable message when the args cannot make a private, multi-AZ network. */
export function validateNetworkArgs(args: NetworkArgs): void {
  if (args.appSecurityGroupIds.length === 0 && args.clusterNodeCidrs.length === 0) {
    throw new Error("Network: set appSecurityGroupIds or clusterNodeCidrs; the data tier admits only the application.");
  }
  if (!args.existing && args.availabilityZoneCount < 2) {
    throw new Error(`Network: availabilityZoneCount is ${args.availabilityZoneCount}; use at least 2 so the database and cache can fail over.`);
  }
  if (args.existing && args.existing.privateSubnetIds.length < 2) {
    throw new Error("Network: existing.privateSubnetIds needs at least two subnets in different availability zones.");
  }
  if (!args.existing && Number(args.vpcCidr.split("/")[1]) > 16) {
    throw new Error(`Network: vpcCidr ${args.vpcCidr} is smaller than a /16; the private subnets are /20s at x.y.16.0, x.y.32.0 and x.y.48.0 of it.`);
  }
  const open = args.clusterNodeCidrs.find((cidr) => cidr.endsWith("/0"));
  if (open) throw new Error(`Network: clusterNodeCidrs contains ${open}, which admits the whole internet; list the cluster's node CIDRs.`);
}

/** Third octet offset of the private subnets inside the VPC CIDR (10.x.<16+i>.0/20). */
function privateSubnetCidr(vpcCidr: string, index: number): string {
  const [a, b] = vpcCidr.split(".");
  return `${a}.${b}.${16 * (index + 1)}.0/20`;
}

/**
 * A VPC with private subnets only (no internet gateway: the data tier is never public) and the
 * security groups that admit PostgreSQL and Redis from the application alone.
 */
export class Network extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  public readonly privateSubnetIds: pulumi.Output<string[]>;
  /** Admits 5432 from the application only. */
  public readonly databaseSecurityGroupId: pulumi.Output<string>;
  /** Admits 6379 from the application only. */
  public readonly cacheSecurityGroupId: pulumi.Output<string>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook-platform:network:Network", name, {}, opts);
    validateNetworkArgs(args);
    const { stack, tags } = args;

    if (args.existing) {
      this.vpcId = pulumi.output(args.existing.vpcId);
      this.privateSubnetIds = pulumi.output(args.existing.privateSubnetIds);
    } else {
      const vpc = new ec2.Vpc(
        `${name}-vpc`,
        {
          cidrBlock: args.vpcCidr,
          enableDnsHostnames: true,
          enableDnsSupport: true,
          tags: { ...tags, Name: physicalName(stack, "vpc", "ec2") },
        },
        { parent: this },
      );
      const zones = getAvailabilityZonesOutput({ state: "available" }, { parent: this });
      const subnets = Array.from({ length: args.availabilityZoneCount }, (_, index) => {
        const zoneKey = String.fromCharCode("a".charCodeAt(0) + index);
        return new ec2.Subnet(
          `${name}-private-${zoneKey}`,
          {
            vpcId: vpc.id,
            cidrBlock: privateSubnetCidr(args.vpcCidr, index),
            availabilityZone: zones.names.apply((names) => {
              const zone = names[index];
              if (!zone) throw new Error(`Network: the region has ${names.length} availability zones; availabilityZoneCount asks for ${args.availabilityZoneCount}.`);
              return zone;
            }),
            mapPublicIpOnLaunch: false,
            tags: { ...tags, Name: physicalName(stack, `private-${zoneKey}`, "ec2"), "kubernetes.io/role/internal-elb": "1" },
          },
          { parent: this },
        );
      });
      this.vpcId = vpc.id;
      this.privateSubnetIds = pulumi.all(subnets.map((s) => s.id));
    }

    const ingressFrom = (port: number, description: string): inputs.ec2.SecurityGroupIngress[] => [
      ...args.appSecurityGroupIds.map((sg) => ({ protocol: "tcp", fromPort: port, toPort: port, securityGroups: [sg], description })),
      ...(args.clusterNodeCidrs.length > 0
        ? [{ protocol: "tcp", fromPort: port, toPort: port, cidrBlocks: args.clusterNodeCidrs, description }]
        : []),
    ];
    const dataStoreSecurityGroup = (role: string, port: number, engine: string) =>
      new ec2.SecurityGroup(
        `${name}-${role}`,
        {
          vpcId: this.vpcId,
          description: `${engine} from the application only`,
          // No egress: the data stores only answer; a stateful security group lets replies out.
          egress: [],
          ingress: ingressFrom(port, `${engine} from the API and worker`),
          tags: { ...tags, Name: physicalName(stack, role, "ec2") },
        },
        { parent: this },
      );
    const databaseSg = dataStoreSecurityGroup("database", POSTGRES_PORT, "PostgreSQL");
    const cacheSg = dataStoreSecurityGroup("cache", REDIS_PORT, "Redis");
    this.databaseSecurityGroupId = databaseSg.id;
    this.cacheSecurityGroupId = cacheSg.id;

    this.registerOutputs({
      vpcId: this.vpcId,
      privateSubnetIds: this.privateSubnetIds,
      databaseSecurityGroupId: this.databaseSecurityGroupId,
      cacheSecurityGroupId: this.cacheSecurityGroupId,
    });
  }
}
