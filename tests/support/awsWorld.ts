import { createHash } from "node:crypto";

/**
 * The AWS account the harness pretends to be, for the lookups `cluster.mode existing` makes
 * (getCluster, getOpenIdConnectProvider, getVpc, getSubnets, getSubnet): one EKS cluster in a VPC
 * laid out the way eksctl and the AWS VPC quick start do it (public subnets tagged
 * kubernetes.io/role/elb, private ones kubernetes.io/role/internal-elb), with ids and ARNs in AWS's
 * shapes. The topology test reads the same world to place looked-up subnets in their VPC.
 */

export interface WorldSubnet {
  id: string;
  vpcId: string;
  cidrBlock: string;
  availabilityZone: string;
  tags: Record<string, string>;
}

export interface WorldCluster {
  name: string;
  vpcId: string;
  /** The subnets the control plane and nodes use. */
  subnetIds: string[];
  clusterSecurityGroupId: string;
  endpoint: string;
  certificateAuthority: string;
  /** https://oidc.eks.<region>.amazonaws.com/id/<32 hex> */
  oidcIssuer: string;
}

export interface AwsWorld {
  accountId: string;
  vpcs: { id: string; cidrBlock: string }[];
  subnets: WorldSubnet[];
  clusters: WorldCluster[];
  /** URLs (https://...) of the account's IAM OIDC providers. */
  oidcProviders: string[];
}

const hex = (seed: string, length: number) => createHash("sha256").update(seed).digest("hex").slice(0, length);

/** The default world: the production stack's cluster `platform-production` in 10.50.0.0/16. */
export function defaultWorld(accountId: string, region: string): AwsWorld {
  const vpcId = `vpc-0${hex("platform-vpc", 16)}`;
  const zones = ["a", "b", "c"].map((z) => `${region}${z}`);
  const subnet = (role: string, zone: number, cidrBlock: string, tags: Record<string, string>): WorldSubnet => ({
    id: `subnet-0${hex(`${role}-${zone}`, 16)}`,
    vpcId,
    cidrBlock,
    availabilityZone: zones[zone] as string,
    tags: { Name: `platform-${role}-${zones[zone]}`, ...tags },
  });
  const privateSubnets = [0, 1, 2].map((zone) => subnet("private", zone, `10.50.${zone * 32}.0/19`, { "kubernetes.io/role/internal-elb": "1" }));
  const publicSubnets = [0, 1, 2].map((zone) => subnet("public", zone, `10.50.${96 + zone * 4}.0/22`, { "kubernetes.io/role/elb": "1" }));
  const oidcId = hex("platform-oidc", 32).toUpperCase();
  const issuer = `https://oidc.eks.${region}.amazonaws.com/id/${oidcId}`;
  return {
    accountId,
    vpcs: [{ id: vpcId, cidrBlock: "10.50.0.0/16" }],
    subnets: [...privateSubnets, ...publicSubnets],
    clusters: [
      {
        name: "platform-production",
        vpcId,
        subnetIds: privateSubnets.map((s) => s.id),
        clusterSecurityGroupId: `sg-0${hex("eks-cluster-sg", 16)}`,
        endpoint: `https://${oidcId}.gr7.${region}.eks.amazonaws.com`,
        certificateAuthority: Buffer.from("-----BEGIN CERTIFICATE-----\nMIIC/jCCAeagAwIBAgIBADANBgkqhkiG9w0BAQsFADAVMRMwEQYDVQQDEwprdWJlcm5ldGVz\n-----END CERTIFICATE-----\n").toString("base64"),
        oidcIssuer: issuer,
      },
    ],
    oidcProviders: [issuer],
  };
}

/**
 * The error the AWS provider gives for a data source that matched nothing, as a gRPC error: the SDK
 * surfaces its `details` (what the engine would send) as the invoke's message.
 */
const notFound = (what: string) => {
  const message = `reading ${what}: couldn't find resource`;
  return Object.assign(new Error(message), { details: message });
};

interface Filter {
  name: string;
  values: string[];
}

function matches(subnet: WorldSubnet, filter: Filter): boolean {
  if (filter.name === "vpc-id") return filter.values.includes(subnet.vpcId);
  if (filter.name.startsWith("tag:")) {
    const value = subnet.tags[filter.name.slice(4)];
    return value !== undefined && filter.values.includes(value);
  }
  throw new Error(`the harness's getSubnets does not know the filter ${filter.name}`);
}

/** Answers a lookup invoke from the world; undefined when the token is not a lookup the world knows. */
export function lookupInvoke(world: AwsWorld, token: string, inputs: Record<string, unknown>, region: string): Record<string, unknown> | undefined {
  switch (token) {
    case "aws:eks/getCluster:getCluster": {
      const cluster = world.clusters.find((c) => c.name === inputs.name);
      if (!cluster) throw notFound(`EKS Cluster (${String(inputs.name)})`);
      return {
        id: cluster.name,
        name: cluster.name,
        arn: `arn:aws:eks:${region}:${world.accountId}:cluster/${cluster.name}`,
        endpoint: cluster.endpoint,
        certificateAuthorities: [{ data: cluster.certificateAuthority }],
        identities: [{ oidcs: [{ issuer: cluster.oidcIssuer }] }],
        vpcConfig: {
          vpcId: cluster.vpcId,
          subnetIds: cluster.subnetIds,
          clusterSecurityGroupId: cluster.clusterSecurityGroupId,
          securityGroupIds: [],
          endpointPrivateAccess: true,
          endpointPublicAccess: false,
          publicAccessCidrs: [],
        },
        status: "ACTIVE",
        version: "1.33",
      };
    }
    case "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider": {
      const url = String(inputs.url);
      if (!world.oidcProviders.includes(url)) throw notFound(`IAM OIDC Provider (${url})`);
      const host = url.replace(/^https:\/\//, "");
      return { id: host, url: host, arn: `arn:aws:iam::${world.accountId}:oidc-provider/${host}`, clientIdLists: ["sts.amazonaws.com"], thumbprintLists: [] };
    }
    case "aws:ec2/getVpc:getVpc": {
      const vpc = world.vpcs.find((v) => v.id === inputs.id);
      if (!vpc) throw notFound(`EC2 VPC (${String(inputs.id)})`);
      return { id: vpc.id, cidrBlock: vpc.cidrBlock, arn: `arn:aws:ec2:${region}:${world.accountId}:vpc/${vpc.id}` };
    }
    case "aws:ec2/getSubnets:getSubnets": {
      const filters = (inputs.filters as Filter[] | undefined) ?? [];
      return { id: region, ids: world.subnets.filter((s) => filters.every((f) => matches(s, f))).map((s) => s.id) };
    }
    case "aws:ec2/getSubnet:getSubnet": {
      const subnet = world.subnets.find((s) => s.id === inputs.id);
      if (!subnet) throw notFound(`EC2 Subnet (${String(inputs.id)})`);
      return { ...subnet, arn: `arn:aws:ec2:${region}:${world.accountId}:subnet/${subnet.id}` };
    }
    default:
      return undefined;
  }
}

/**
 * What AWS returns for the cluster resources `cluster.mode create` registers, in AWS's shapes: the
 * endpoint, CA and OIDC issuer EKS assigns, the cluster security group it creates, the OIDC
 * provider's ARN. Undefined for every other type.
 */
export function clusterResourceState(type: string, name: string, inputs: Record<string, unknown>, accountId: string, region: string): { id: string; state: Record<string, unknown> } | undefined {
  switch (type) {
    case "aws:eks/cluster:Cluster": {
      const clusterName = (inputs.name as string | undefined) ?? name;
      const oidcId = hex(`${clusterName}-oidc`, 32).toUpperCase();
      return {
        id: clusterName,
        state: {
          ...inputs,
          name: clusterName,
          arn: `arn:aws:eks:${region}:${accountId}:cluster/${clusterName}`,
          endpoint: `https://${oidcId}.gr7.${region}.eks.amazonaws.com`,
          certificateAuthority: { data: Buffer.from(`-----BEGIN CERTIFICATE-----\n${hex(clusterName, 40)}\n-----END CERTIFICATE-----\n`).toString("base64") },
          identities: [{ oidcs: [{ issuer: `https://oidc.eks.${region}.amazonaws.com/id/${oidcId}` }] }],
          vpcConfig: { ...(inputs.vpcConfig as Record<string, unknown>), clusterSecurityGroupId: `sg-0${hex(`${clusterName}-cluster-sg`, 16)}` },
          status: "ACTIVE",
        },
      };
    }
    case "aws:iam/openIdConnectProvider:OpenIdConnectProvider": {
      const host = String(inputs.url).replace(/^https:\/\//, "");
      const arn = `arn:aws:iam::${accountId}:oidc-provider/${host}`;
      return { id: arn, state: { ...inputs, arn } };
    }
    case "aws:ec2/eip:Eip":
      return { id: `eipalloc-0${hex(name, 16)}`, state: { ...inputs, allocationId: `eipalloc-0${hex(name, 16)}`, publicIp: `203.0.113.${parseInt(hex(name, 2), 16) % 250}` } };
    default:
      return undefined;
  }
}
