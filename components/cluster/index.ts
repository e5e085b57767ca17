import * as pulumi from "@pulumi/pulumi";
import { Provider } from "@pulumi/kubernetes/provider";
import type { StackIdentity } from "../naming";
import { createEks, type NodeGroupSettings } from "./eks";
import { execKubeconfig, issuerHost } from "./kubeconfig";
import type { FoundCluster } from "./lookup";
import { createVpc } from "./vpc";

export { lookupCluster, type FoundCluster } from "./lookup";

/** What `cluster.mode create` builds: a VPC and an EKS cluster in it. */
export interface NewClusterSettings {
  /** The cluster's name. Changing it replaces the cluster. */
  name: string;
  /** Kubernetes version, such as "1.33". */
  version: string;
  /** The new VPC's range (a /16 or larger). Changing it replaces the VPC and everything in it. */
  vpcCidr: string;
  /** Zones spanned: 2 or 3. */
  availabilityZoneCount: number;
  /** One NAT gateway per zone (production) or one shared (staging). */
  natGatewayPerZone: boolean;
  /** CIDRs allowed to the public API endpoint; [] keeps the endpoint private. */
  publicAccessCidrs: string[];
  nodeGroup: NodeGroupSettings;
  /** IAM roles given cluster-admin through access entries (the deploy role first). */
  accessRoleArns: string[];
}

export interface ClusterArgs {
  stack: StackIdentity;
  /** The stack's region, for `aws eks get-token`. */
  region: string;
  /**
   * Exactly one of `create` (a new VPC and cluster) and `existing` (what lookupCluster found).
   * @example { existing: await lookupCluster({ stack, region, name: "platform-production" }) }
   */
  create?: NewClusterSettings;
  existing?: FoundCluster;
  /** A kubeconfig (secret) that overrides the one built from the cluster with `aws eks get-token`. */
  kubeconfig?: pulumi.Input<string>;
  /** Tags for every taggable child. */
  tags: Record<string, string>;
}

/** Throws a fixable message unless exactly one mode is given. */
function validateClusterArgs(args: ClusterArgs): void {
  if (Boolean(args.create) === Boolean(args.existing)) {
    throw new Error("Cluster: give exactly one of create (a new VPC and EKS cluster) and existing (a cluster found by lookupCluster).");
  }
}

/**
 * Where the API and worker run and the data tier lives. `create`: a three-tier VPC and an EKS
 * cluster built here; `existing`: a cluster found by name. Either way every other component is
 * wired from these outputs, never from typed-in ids, and the Kubernetes provider authenticates with
 * `aws eks get-token` (the secret kubeconfig is an explicit override).
 */
export class Cluster extends pulumi.ComponentResource {
  public readonly clusterName: pulumi.Output<string>;
  public readonly vpcId: pulumi.Output<string>;
  public readonly vpcCidr: pulumi.Output<string>;
  /**
   * The node subnets (private, with a NAT route): where in-VPC work that also calls AWS APIs runs
   * (the restore drill's validation function), since the data-tier subnets may have no route out.
   */
  public readonly privateSubnetIds: pulumi.Output<string[]>;
  /** CIDRs of the node subnets: where kubelet probes come from. */
  public readonly nodeCidrs: pulumi.Output<string[]>;
  /** Subnets of PostgreSQL and Redis: isolated (create) or the VPC's private ones (existing). */
  public readonly dataSubnetIds: pulumi.Output<string[]>;
  public readonly dataSubnetCidrs: pulumi.Output<string[]>;
  /** Subnets tagged `kubernetes.io/role/elb` for the internet-facing ALB. */
  public readonly publicSubnetIds: pulumi.Output<string[]>;
  /** The cluster security group: on the control plane and every managed node, admitted by the data tier. */
  public readonly securityGroupId: pulumi.Output<string>;
  /** The IAM OIDC provider that IRSA roles trust (for the add-ons, the app and the log router). */
  public readonly oidcProviderArn: pulumi.Output<string>;
  /** The OIDC issuer without https:// (`oidc.eks.<region>.amazonaws.com/id/<id>`), as IAM conditions spell it. */
  public readonly oidcIssuer: pulumi.Output<string>;
  public readonly endpoint: pulumi.Output<string>;
  /** The one Kubernetes provider every in-cluster object (add-ons, services, log router) goes through. */
  public readonly provider: Provider;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook-platform:cluster:Cluster", name, {}, opts);
    validateClusterArgs(args);
    let ready: pulumi.Resource[] = [];
    let certificateAuthority: pulumi.Output<string>;
    let oidcIssuerUrl: pulumi.Output<string>;
    if (args.create) {
      const settings = args.create;
      const vpc = createVpc(this, name, {
        stack: args.stack,
        vpcCidr: settings.vpcCidr,
        availabilityZoneCount: settings.availabilityZoneCount,
        natGatewayPerZone: settings.natGatewayPerZone,
        clusterName: settings.name,
        tags: args.tags,
      });
      const built = createEks(this, name, {
        stack: args.stack,
        clusterName: settings.name,
        version: settings.version,
        subnetIds: vpc.privateSubnetIds,
        publicAccessCidrs: settings.publicAccessCidrs,
        nodeGroup: settings.nodeGroup,
        accessRoleArns: settings.accessRoleArns,
        protect: args.stack.environment === "production",
        tags: args.tags,
      });
      ready = built.ready;
      this.clusterName = built.name;
      this.vpcId = vpc.vpcId;
      this.vpcCidr = pulumi.output(settings.vpcCidr);
      this.privateSubnetIds = pulumi.all(vpc.privateSubnetIds);
      this.nodeCidrs = pulumi.output(vpc.cidrs.private);
      this.dataSubnetIds = pulumi.all(vpc.isolatedSubnetIds);
      this.dataSubnetCidrs = pulumi.output(vpc.cidrs.isolated);
      this.publicSubnetIds = pulumi.all(vpc.publicSubnetIds);
      this.securityGroupId = built.securityGroupId;
      this.oidcProviderArn = built.oidcProviderArn;
      this.endpoint = built.endpoint;
      certificateAuthority = built.certificateAuthority;
      oidcIssuerUrl = built.oidcIssuerUrl;
    } else {
      const found = args.existing as FoundCluster;
      this.clusterName = pulumi.output(found.name);
      this.vpcId = pulumi.output(found.vpcId);
      this.vpcCidr = pulumi.output(found.vpcCidr);
      this.privateSubnetIds = pulumi.output(found.nodeSubnetIds);
      this.nodeCidrs = pulumi.output(found.nodeCidrs);
      this.dataSubnetIds = pulumi.output(found.dataSubnetIds);
      this.dataSubnetCidrs = pulumi.output(found.dataSubnetCidrs);
      this.publicSubnetIds = pulumi.output(found.publicSubnetIds);
      this.securityGroupId = pulumi.output(found.securityGroupId);
      this.oidcProviderArn = pulumi.output(found.oidcProviderArn);
      this.endpoint = pulumi.output(found.endpoint);
      certificateAuthority = pulumi.output(found.certificateAuthority);
      oidcIssuerUrl = pulumi.output(found.oidcIssuerUrl);
    }
    this.oidcIssuer = oidcIssuerUrl.apply(issuerHost);

    const kubeconfig =
      args.kubeconfig ??
      pulumi.all([this.clusterName, this.endpoint, certificateAuthority]).apply(([clusterName, endpoint, ca]) => execKubeconfig(clusterName, endpoint, ca, args.region));
    this.provider = new Provider(
      `${name}-k8s`,
      { kubeconfig: pulumi.secret(kubeconfig), enableServerSideApply: true },
      // Nothing is applied to a cluster whose nodes, DNS and access entries are not up yet.
      { parent: this, dependsOn: ready },
    );

    this.registerOutputs({
      clusterName: this.clusterName,
      vpcId: this.vpcId,
      vpcCidr: this.vpcCidr,
      privateSubnetIds: this.privateSubnetIds,
      nodeCidrs: this.nodeCidrs,
      dataSubnetIds: this.dataSubnetIds,
      dataSubnetCidrs: this.dataSubnetCidrs,
      publicSubnetIds: this.publicSubnetIds,
      securityGroupId: this.securityGroupId,
      oidcProviderArn: this.oidcProviderArn,
      oidcIssuer: this.oidcIssuer,
      endpoint: this.endpoint,
    });
  }
}
