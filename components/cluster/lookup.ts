import { getCluster } from "@pulumi/aws/eks/getCluster";
import { getOpenIdConnectProvider } from "@pulumi/aws/iam/getOpenIdConnectProvider";
import { getSubnet } from "@pulumi/aws/ec2/getSubnet";
import { getSubnets } from "@pulumi/aws/ec2/getSubnets";
import { getVpc } from "@pulumi/aws/ec2/getVpc";
import { ConfigError } from "../../config";
import type { StackIdentity } from "../naming";

/** The subnet tag the AWS Load Balancer Controller reads for internal load balancers (and we for private subnets). */
export const INTERNAL_ELB_TAG = "kubernetes.io/role/internal-elb";
/** The subnet tag the AWS Load Balancer Controller reads for internet-facing load balancers. */
export const PUBLIC_ELB_TAG = "kubernetes.io/role/elb";

/** What the program needs of a cluster it did not create, read from AWS before anything is registered. */
export interface FoundCluster {
  name: string;
  endpoint: string;
  /** Base64 PEM of the cluster's CA, as EKS returns it. */
  certificateAuthority: string;
  /** The OIDC issuer URL, https:// included. */
  oidcIssuerUrl: string;
  oidcProviderArn: string;
  /** The security group EKS attaches to the control plane and managed nodes. */
  securityGroupId: string;
  vpcId: string;
  vpcCidr: string;
  /** The cluster's subnets, where its nodes (and so kubelet probes) live. */
  nodeSubnetIds: string[];
  nodeCidrs: string[];
  /** Private subnets of the VPC for the data tier: configured, or tagged `kubernetes.io/role/internal-elb`. */
  dataSubnetIds: string[];
  dataSubnetCidrs: string[];
  /** Subnets tagged for internet-facing load balancers (where the API's ALB goes). */
  publicSubnetIds: string[];
}

export interface LookupArgs {
  stack: StackIdentity;
  region: string;
  /** `cluster.name`. */
  name: string;
  /** `network.dataSubnetIds`; unset: the VPC's subnets tagged `kubernetes.io/role/internal-elb`. */
  dataSubnetIds?: string[];
}

/** The first line of an invoke's error: AWS's reason, without the provider's stack trace. */
function reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n").find((line) => line.trim().length > 0)?.trim() ?? text;
}

/**
 * Looks an existing EKS cluster up by name, with its VPC, subnets, security group and IAM OIDC
 * provider. Awaited before any resource is registered, so a lookup that finds nothing stops the
 * preview with a ConfigError naming the key to fix (`cluster.name`, `network.dataSubnetIds`).
 * @throws ConfigError when the cluster, its OIDC provider, data-tier subnets or public subnets are missing.
 */
export async function lookupCluster(args: LookupArgs): Promise<FoundCluster> {
  const fail = (path: string, got: unknown, expected: string): never => {
    throw new ConfigError(args.stack.name, [{ path, got, expected }]);
  };
  const cluster = await getCluster({ name: args.name }).catch((error: unknown) =>
    fail("cluster.name", args.name, `the name of an EKS cluster in ${args.region} this account can read (aws eks list-clusters); the lookup said: ${reason(error)}`),
  );
  const issuer = cluster.identities[0]?.oidcs[0]?.issuer;
  if (!issuer) return fail("cluster.name", args.name, "a cluster with an OIDC issuer (EKS gives every cluster one; check the cluster's status)");
  const provider = await getOpenIdConnectProvider({ url: issuer }).catch((error: unknown) =>
    fail("cluster.name", args.name, `a cluster whose OIDC issuer ${issuer} has an IAM OIDC provider (eksctl utils associate-iam-oidc-provider --cluster ${args.name} --approve); the lookup said: ${reason(error)}`),
  );
  const vpcId = cluster.vpcConfig.vpcId;
  const vpc = await getVpc({ id: vpcId });
  const subnetsTagged = async (tag: string) =>
    (await getSubnets({ filters: [{ name: "vpc-id", values: [vpcId] }, { name: `tag:${tag}`, values: ["1"] }] })).ids;

  const dataSubnetIds = args.dataSubnetIds ?? (await subnetsTagged(INTERNAL_ELB_TAG));
  if (dataSubnetIds.length < 2) {
    fail("network.dataSubnetIds", args.dataSubnetIds, `at least two private subnets of ${vpcId} (the cluster's VPC) in different zones, or subnets there tagged ${INTERNAL_ELB_TAG}=1 (found ${dataSubnetIds.length})`);
  }
  const dataSubnets = await Promise.all(
    dataSubnetIds.map((id) =>
      getSubnet({ id }).catch((error: unknown) => fail("network.dataSubnetIds", id, `a subnet of ${vpcId}; the lookup said: ${reason(error)}`)),
    ),
  );
  const outside = dataSubnets.find((subnet) => subnet.vpcId !== vpcId);
  if (outside) fail("network.dataSubnetIds", outside.id, `subnets of the cluster's VPC ${vpcId} (${outside.id} is in ${outside.vpcId}): pods reach the data tier only inside it`);
  if (new Set(dataSubnets.map((subnet) => subnet.availabilityZone)).size < 2) {
    fail("network.dataSubnetIds", dataSubnetIds, "subnets in at least two availability zones (Multi-AZ PostgreSQL and Redis fail over across zones)");
  }
  const publicSubnetIds = await subnetsTagged(PUBLIC_ELB_TAG);
  if (publicSubnetIds.length === 0) {
    fail("cluster.name", args.name, `a cluster whose VPC ${vpcId} has public subnets tagged ${PUBLIC_ELB_TAG}=1: the API's internet-facing ALB is placed there (tag them, or pick another cluster)`);
  }
  const nodeSubnets = await Promise.all(cluster.vpcConfig.subnetIds.map((id) => getSubnet({ id })));
  return {
    name: cluster.name,
    endpoint: cluster.endpoint,
    certificateAuthority: cluster.certificateAuthorities[0]?.data ?? "",
    oidcIssuerUrl: issuer,
    oidcProviderArn: provider.arn,
    securityGroupId: cluster.vpcConfig.clusterSecurityGroupId,
    vpcId,
    vpcCidr: vpc.cidrBlock,
    nodeSubnetIds: cluster.vpcConfig.subnetIds,
    nodeCidrs: nodeSubnets.map((subnet) => subnet.cidrBlock),
    dataSubnetIds,
    dataSubnetCidrs: dataSubnets.map((subnet) => subnet.cidrBlock),
    publicSubnetIds,
  };
}
