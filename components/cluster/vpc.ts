import * as pulumi from "@pulumi/pulumi";
import * as ec2 from "@pulumi/aws/ec2";
import { getAvailabilityZonesOutput } from "@pulumi/aws/getAvailabilityZones";
import { physicalName, type StackIdentity } from "../naming";
import { type SubnetPlan, type SubnetTier, subnetLayout } from "./layout";
import { INTERNAL_ELB_TAG, PUBLIC_ELB_TAG } from "./lookup";

export interface VpcArgs {
  stack: StackIdentity;
  /** The new VPC's range, a /16 or larger. Changing it replaces the VPC and everything in it. */
  vpcCidr: string;
  /** Zones spanned (2 or 3); each gets a public, a private and an isolated subnet. */
  availabilityZoneCount: number;
  /** One NAT gateway per zone (a zone outage keeps the others' egress) or one shared (cheaper). */
  natGatewayPerZone: boolean;
  /** The EKS cluster's name, for the `kubernetes.io/cluster/<name>` subnet tag. */
  clusterName: string;
  tags: Record<string, string>;
}

/** Ids and ranges of the VPC's tiers, in zone order. */
export interface BuiltVpc {
  vpcId: pulumi.Output<string>;
  privateSubnetIds: pulumi.Output<string>[];
  publicSubnetIds: pulumi.Output<string>[];
  isolatedSubnetIds: pulumi.Output<string>[];
  cidrs: Record<SubnetTier, string[]>;
}

const zoneKey = (zone: number) => String.fromCharCode("a".charCodeAt(0) + zone);

/**
 * A VPC in three tiers: public subnets (internet-facing ALBs and NAT gateways) behind an internet
 * gateway; private subnets (nodes, pods, internal load balancers) whose only way out is NAT;
 * isolated subnets (PostgreSQL, Redis) with no route beyond the VPC. Children of `parent`.
 */
export function createVpc(parent: pulumi.Resource, name: string, args: VpcArgs): BuiltVpc {
  const { stack, tags } = args;
  const opts = { parent };
  const layout = subnetLayout(args.vpcCidr, args.availabilityZoneCount);
  const vpc = new ec2.Vpc(
    `${name}-vpc`,
    { cidrBlock: args.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { ...tags, Name: physicalName(stack, "vpc", "ec2") } },
    opts,
  );
  const zones = getAvailabilityZonesOutput({ state: "available" }, opts);
  const clusterTag = { [`kubernetes.io/cluster/${args.clusterName}`]: "shared" };
  const tierTags: Record<SubnetTier, Record<string, string>> = {
    public: { [PUBLIC_ELB_TAG]: "1", ...clusterTag },
    private: { [INTERNAL_ELB_TAG]: "1", ...clusterTag },
    isolated: {},
  };
  const subnet = (plan: SubnetPlan) =>
    new ec2.Subnet(
      `${name}-${plan.tier}-${zoneKey(plan.zone)}`,
      {
        vpcId: vpc.id,
        cidrBlock: plan.cidrBlock,
        availabilityZone: zones.names.apply((names) => {
          const zone = names[plan.zone];
          if (!zone) throw new Error(`Cluster: the region has ${names.length} availability zones; network.availabilityZoneCount asks for ${args.availabilityZoneCount}.`);
          return zone;
        }),
        // Load balancers get public addresses from the controller; nothing launches with one.
        mapPublicIpOnLaunch: false,
        tags: { ...tags, ...tierTags[plan.tier], Name: physicalName(stack, `${plan.tier}-${zoneKey(plan.zone)}`, "ec2") },
      },
      opts,
    );
  const tier = (which: SubnetTier) => layout.filter((plan) => plan.tier === which).map((plan) => subnet(plan));
  const publicSubnets = tier("public");
  const privateSubnets = tier("private");
  const isolatedSubnets = tier("isolated");

  const gateway = new ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: { ...tags, Name: physicalName(stack, "igw", "ec2") } }, opts);
  const publicRoutes = new ec2.RouteTable(
    `${name}-public-routes`,
    { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }], tags: { ...tags, Name: physicalName(stack, "public", "ec2") } },
    opts,
  );
  publicSubnets.forEach((s, zone) => new ec2.RouteTableAssociation(`${name}-public-${zoneKey(zone)}`, { subnetId: s.id, routeTableId: publicRoutes.id }, opts));

  const natZones = args.natGatewayPerZone ? publicSubnets.map((_, zone) => zone) : [0];
  const natGateways = natZones.map((zone) => {
    const address = new ec2.Eip(`${name}-nat-${zoneKey(zone)}`, { domain: "vpc", tags: { ...tags, Name: physicalName(stack, `nat-${zoneKey(zone)}`, "ec2") } }, opts);
    return new ec2.NatGateway(
      `${name}-nat-${zoneKey(zone)}`,
      { allocationId: address.allocationId, subnetId: (publicSubnets[zone] as ec2.Subnet).id, connectivityType: "public", tags: { ...tags, Name: physicalName(stack, `nat-${zoneKey(zone)}`, "ec2") } },
      { parent, dependsOn: [gateway] },
    );
  });
  privateSubnets.forEach((s, zone) => {
    const nat = (natGateways[zone] ?? natGateways[0]) as ec2.NatGateway;
    const routes = new ec2.RouteTable(
      `${name}-private-${zoneKey(zone)}-routes`,
      { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }], tags: { ...tags, Name: physicalName(stack, `private-${zoneKey(zone)}`, "ec2") } },
      opts,
    );
    new ec2.RouteTableAssociation(`${name}-private-${zoneKey(zone)}`, { subnetId: s.id, routeTableId: routes.id }, opts);
  });
  // Explicit and empty: the isolated tier never falls back to the main route table's routes.
  const isolatedRoutes = new ec2.RouteTable(`${name}-isolated-routes`, { vpcId: vpc.id, routes: [], tags: { ...tags, Name: physicalName(stack, "isolated", "ec2") } }, opts);
  isolatedSubnets.forEach((s, zone) => new ec2.RouteTableAssociation(`${name}-isolated-${zoneKey(zone)}`, { subnetId: s.id, routeTableId: isolatedRoutes.id }, opts));

  const cidrsOf = (which: SubnetTier) => layout.filter((plan) => plan.tier === which).map((plan) => plan.cidrBlock);
  return {
    vpcId: vpc.id,
    privateSubnetIds: privateSubnets.map((s) => s.id),
    publicSubnetIds: publicSubnets.map((s) => s.id),
    isolatedSubnetIds: isolatedSubnets.map((s) => s.id),
    cidrs: { public: cidrsOf("public"), private: cidrsOf("private"), isolated: cidrsOf("isolated") },
  };
}
