import type * as k8s from "@pulumi/kubernetes/types/input";
import { selectorLabels } from "./workloads";

/**
 * The namespace's NetworkPolicies, pure so they can be tested without the Pulumi runtime. Enforced
 * by the VPC CNI's network policy agent (vpc-cni `enableNetworkPolicy`): everything is denied in
 * both directions, then each workload gets exactly the traffic it needs.
 */

export interface NetworkPolicyArgs {
  /** The port both workloads listen on ($PORT). */
  port: number;
  /** The VPC's range: ALB ip targets are reached from the load balancer's addresses in it. */
  vpcCidr: string;
  /** The node subnets' ranges: kubelet probes come from the node's address. */
  nodeCidrs: string[];
  /** The data tier's subnets, where PostgreSQL's and Redis's addresses are. */
  dataSubnetCidrs: string[];
  /** PostgreSQL's and Redis's ports. */
  dataPorts: number[];
}

/** Cluster DNS as EKS runs it: CoreDNS pods labelled k8s-app=kube-dns in kube-system. */
const CLUSTER_DNS: k8s.networking.v1.NetworkPolicyPeer = {
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
  podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
};
const tcp = (port: number): k8s.networking.v1.NetworkPolicyPort => ({ protocol: "TCP", port });
const ipBlock = (cidr: string): k8s.networking.v1.NetworkPolicyPeer => ({ ipBlock: { cidr } });

/** The NetworkPolicies' names (metadata.name), known before their ranges are. */
export const NETWORK_POLICY_NAMES = ["default-deny", "api-ingress", "worker-probes", "app-egress"] as const;
export type NetworkPolicyName = (typeof NETWORK_POLICY_NAMES)[number];

/** The policies by name. */
export function networkPolicies(args: NetworkPolicyArgs): Record<NetworkPolicyName, k8s.networking.v1.NetworkPolicySpec> {
  return {
    "default-deny": { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    // ALB ip targets: the load balancer's nodes in the VPC's subnets call the pod on its port.
    "api-ingress": { podSelector: { matchLabels: selectorLabels("api") }, policyTypes: ["Ingress"], ingress: [{ from: [ipBlock(args.vpcCidr)], ports: [tcp(args.port)] }] },
    // The worker serves nothing: only kubelet's probes, from the node subnets.
    "worker-probes": { podSelector: { matchLabels: selectorLabels("worker") }, policyTypes: ["Ingress"], ingress: [{ from: args.nodeCidrs.map(ipBlock), ports: [tcp(args.port)] }] },
    "app-egress": {
      podSelector: { matchLabels: { "app.kubernetes.io/name": selectorLabels("api")["app.kubernetes.io/name"] as string } },
      policyTypes: ["Egress"],
      egress: [
        { to: [CLUSTER_DNS], ports: [{ protocol: "UDP", port: 53 }, tcp(53)] },
        { to: args.dataSubnetCidrs.map(ipBlock), ports: args.dataPorts.map(tcp) },
        // AWS APIs (STS for IRSA, S3 for uploads) have public addresses reached through NAT.
        { to: [ipBlock("0.0.0.0/0")], ports: [tcp(443)] },
      ],
    },
  };
}
