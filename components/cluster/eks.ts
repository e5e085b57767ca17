import * as pulumi from "@pulumi/pulumi";
import * as cloudwatch from "@pulumi/aws/cloudwatch";
import * as eks from "@pulumi/aws/eks";
import * as iam from "@pulumi/aws/iam";
import * as kms from "@pulumi/aws/kms";
import { physicalName, type StackIdentity } from "../naming";
import { KMS_DELETION_WINDOW_DAYS, named, stateful } from "../protection";

/** The managed node group's size and machines. */
export interface NodeGroupSettings {
  instanceTypes: string[];
  minSize: number;
  desiredSize: number;
  maxSize: number;
}

export interface EksArgs {
  stack: StackIdentity;
  /** The cluster's name (EKS names are unique per account and region). Changing it replaces the cluster. */
  clusterName: string;
  /** Kubernetes version, such as "1.33". */
  version: string;
  /** Subnets of the control plane's network interfaces and of the nodes (the private tier). */
  subnetIds: pulumi.Input<string>[];
  /** CIDRs allowed to the public endpoint; [] turns the public endpoint off. The private endpoint is always on. */
  publicAccessCidrs: string[];
  nodeGroup: NodeGroupSettings;
  /** IAM roles given cluster-admin through EKS access entries (the deploy role first). */
  accessRoleArns: string[];
  /**
   * Days the control-plane logs are kept.
   * @default 90
   */
  logRetentionDays?: number;
  /** Production protects the cluster from `pulumi destroy` (and turns on EKS deletion protection). */
  protect: boolean;
  tags: Record<string, string>;
}

/** Every control-plane log type EKS offers ("Inspect structured logs" extends to the control plane). */
export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"];
/** The AWS-managed access policy for cluster administrators. */
export const CLUSTER_ADMIN_POLICY_ARN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

const assumedBy = (service: string) =>
  JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: ["sts:AssumeRole", "sts:TagSession"] }] });
const managedPolicy = (name: string) => `arn:aws:iam::aws:policy/${name}`;

/** Graviton families (m7g, c6gn, t4g...) need the ARM AMI. */
export function amiTypeFor(instanceTypes: string[]): string {
  return instanceTypes.every((type) => /^[a-z]+\d+g[a-z]*\./.test(type)) ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD";
}

export interface BuiltEks {
  name: pulumi.Output<string>;
  endpoint: pulumi.Output<string>;
  certificateAuthority: pulumi.Output<string>;
  oidcIssuerUrl: pulumi.Output<string>;
  oidcProviderArn: pulumi.Output<string>;
  securityGroupId: pulumi.Output<string>;
  /** Resolves when the nodes and core add-ons are up: what Kubernetes objects wait for. */
  ready: pulumi.Resource[];
}

/**
 * An EKS cluster as the runbook's production needs it: private endpoint, a public one only for the
 * configured CIDRs, Secrets envelope-encrypted with a KMS key, every control-plane log on, access by
 * IAM access entries only, a managed node group, the IAM OIDC provider for IRSA, and the core
 * add-ons (vpc-cni enforcing NetworkPolicies, coredns, kube-proxy). Children of `parent`.
 */
export function createEks(parent: pulumi.Resource, name: string, args: EksArgs): BuiltEks {
  const { stack, tags, clusterName } = args;
  const opts = { parent };
  const secretsKey = new kms.Key(
    `${name}-secrets-key`,
    { description: `Envelope encryption of ${clusterName}'s Kubernetes Secrets`, enableKeyRotation: true, deletionWindowInDays: KMS_DELETION_WINDOW_DAYS, tags },
    // A destroyed key makes every Secret in etcd unreadable: kept even when the stack goes.
    stateful(stack, "key", parent),
  );
  const clusterRole = new iam.Role(`${name}-role`, { name: physicalName(stack, "eks-cluster", "iam"), assumeRolePolicy: assumedBy("eks.amazonaws.com"), tags }, named(parent));
  const clusterPolicy = new iam.RolePolicyAttachment(`${name}-role-policy`, { role: clusterRole.name, policyArn: managedPolicy("AmazonEKSClusterPolicy") }, opts);
  // Created first so EKS writes into a group whose retention the program owns.
  const logGroup = new cloudwatch.LogGroup(
    `${name}-control-plane-logs`,
    { name: `/aws/eks/${clusterName}/cluster`, retentionInDays: args.logRetentionDays ?? 90, tags },
    named(parent),
  );
  const cluster = new eks.Cluster(
    `${name}-eks`,
    {
      name: clusterName,
      version: args.version,
      roleArn: clusterRole.arn,
      vpcConfig: {
        subnetIds: args.subnetIds,
        endpointPrivateAccess: true,
        endpointPublicAccess: args.publicAccessCidrs.length > 0,
        publicAccessCidrs: args.publicAccessCidrs.length > 0 ? args.publicAccessCidrs : undefined,
      },
      encryptionConfig: { provider: { keyArn: secretsKey.arn }, resources: ["secrets"] },
      enabledClusterLogTypes: CONTROL_PLANE_LOG_TYPES,
      accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false },
      // The program installs vpc-cni, coredns and kube-proxy itself, with its own settings.
      bootstrapSelfManagedAddons: false,
      deletionProtection: args.protect,
      tags,
    },
    named(parent, { protect: args.protect, dependsOn: [clusterPolicy, logGroup] }),
  );

  const oidcIssuerUrl = cluster.identities.apply((identities) => identities[0]?.oidcs?.[0]?.issuer ?? "");
  const oidcProvider = new iam.OpenIdConnectProvider(`${name}-oidc`, { url: oidcIssuerUrl, clientIdLists: ["sts.amazonaws.com"], tags }, opts);

  const accessPolicies = args.accessRoleArns.map((principalArn) => {
    const key = principalArn.split("/").pop() ?? principalArn;
    const entry = new eks.AccessEntry(`${name}-access-${key}`, { clusterName: cluster.name, principalArn, type: "STANDARD", tags }, opts);
    return new eks.AccessPolicyAssociation(
      `${name}-access-${key}-admin`,
      { clusterName: cluster.name, principalArn: entry.principalArn, policyArn: CLUSTER_ADMIN_POLICY_ARN, accessScope: { type: "cluster" } },
      opts,
    );
  });

  // vpc-cni first: nodes stay NotReady until pod networking exists.
  const vpcCni = new eks.Addon(
    `${name}-vpc-cni`,
    {
      clusterName: cluster.name,
      addonName: "vpc-cni",
      // The CNI's network policy agent is what enforces the namespace's NetworkPolicies.
      configurationValues: JSON.stringify({ enableNetworkPolicy: "true" }),
      resolveConflictsOnCreate: "OVERWRITE",
      resolveConflictsOnUpdate: "PRESERVE",
      tags,
    },
    opts,
  );
  const kubeProxy = new eks.Addon(
    `${name}-kube-proxy`,
    { clusterName: cluster.name, addonName: "kube-proxy", resolveConflictsOnCreate: "OVERWRITE", resolveConflictsOnUpdate: "PRESERVE", tags },
    opts,
  );
  const nodeRole = new iam.Role(`${name}-node-role`, { name: physicalName(stack, "eks-node", "iam"), assumeRolePolicy: assumedBy("ec2.amazonaws.com"), tags }, named(parent));
  const nodePolicies = ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"].map(
    (policy) => new iam.RolePolicyAttachment(`${name}-node-${policy}`, { role: nodeRole.name, policyArn: managedPolicy(policy) }, opts),
  );
  const nodes = new eks.NodeGroup(
    `${name}-nodes`,
    {
      clusterName: cluster.name,
      nodeRoleArn: nodeRole.arn,
      subnetIds: args.subnetIds,
      instanceTypes: args.nodeGroup.instanceTypes,
      amiType: amiTypeFor(args.nodeGroup.instanceTypes),
      capacityType: "ON_DEMAND",
      scalingConfig: { minSize: args.nodeGroup.minSize, desiredSize: args.nodeGroup.desiredSize, maxSize: args.nodeGroup.maxSize },
      updateConfig: { maxUnavailable: 1 },
      tags,
    },
    // A cluster autoscaler owns the current size once nodes exist.
    { parent, dependsOn: [...nodePolicies, vpcCni, kubeProxy], ignoreChanges: ["scalingConfig.desiredSize"] },
  );
  const coredns = new eks.Addon(
    `${name}-coredns`,
    { clusterName: cluster.name, addonName: "coredns", resolveConflictsOnCreate: "OVERWRITE", resolveConflictsOnUpdate: "PRESERVE", tags },
    { parent, dependsOn: [nodes] },
  );

  return {
    name: cluster.name,
    endpoint: cluster.endpoint,
    certificateAuthority: cluster.certificateAuthority.apply((ca) => ca.data ?? ""),
    oidcIssuerUrl,
    oidcProviderArn: oidcProvider.arn,
    securityGroupId: cluster.vpcConfig.apply((vpc) => vpc.clusterSecurityGroupId ?? ""),
    ready: [nodes, coredns, ...accessPolicies],
  };
}
