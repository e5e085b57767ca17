import { cidrContains } from "../../components/cluster/layout";

/**
 * Kubernetes NetworkPolicy semantics (networking.k8s.io/v1), enough to decide whether a pod may send
 * or receive a connection: a pod selected by no policy of a direction is unrestricted in it; once
 * selected, a connection is allowed only if some rule of some selecting policy admits both the peer
 * and the port. The topology test runs the program's registered policies through it.
 */

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }[];
}
interface Peer {
  ipBlock?: { cidr: string; except?: string[] };
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
}
interface Port {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
interface Rule {
  to?: Peer[];
  from?: Peer[];
  ports?: Port[];
}
export interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes?: ("Ingress" | "Egress")[];
  ingress?: Rule[];
  egress?: Rule[];
}
export interface NamespacedPolicy {
  namespace: string;
  spec: NetworkPolicySpec;
}

/** The far side of a connection: an address range (all of it must be admitted) or a pod. */
export type Endpoint = { cidr: string } | { namespace: string; labels: Record<string, string>; namespaceLabels: Record<string, string> };

function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const expression of selector.matchExpressions ?? []) {
    const value = labels[expression.key];
    const ok = {
      In: value !== undefined && (expression.values ?? []).includes(value),
      NotIn: value === undefined || !(expression.values ?? []).includes(value),
      Exists: value !== undefined,
      DoesNotExist: value === undefined,
    }[expression.operator];
    if (!ok) return false;
  }
  return true;
}

function peerAdmits(peer: Peer, endpoint: Endpoint, policyNamespace: string): boolean {
  if ("cidr" in endpoint) {
    if (!peer.ipBlock) return false;
    return cidrContains(peer.ipBlock.cidr, endpoint.cidr) && !(peer.ipBlock.except ?? []).some((except) => cidrContains(except, endpoint.cidr) || cidrContains(endpoint.cidr, except));
  }
  if (peer.ipBlock) return false;
  const namespaceOk = peer.namespaceSelector ? selects(peer.namespaceSelector, endpoint.namespaceLabels) : endpoint.namespace === policyNamespace;
  return namespaceOk && selects(peer.podSelector, endpoint.labels);
}

function portAdmits(ports: Port[] | undefined, protocol: string, port: number, namedPorts: Record<string, number>): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? "TCP") !== protocol) return false;
    if (p.port === undefined) return true;
    const from = typeof p.port === "string" ? namedPorts[p.port] : p.port;
    return from !== undefined && port >= from && port <= (p.endPort ?? from);
  });
}

export interface Connection {
  /** The pod the policies are evaluated for. */
  pod: { namespace: string; labels: Record<string, string>; namedPorts?: Record<string, number> };
  direction: "Ingress" | "Egress";
  /** The other side: where the pod connects to (Egress), or where the connection comes from (Ingress). */
  peer: Endpoint;
  protocol: "TCP" | "UDP";
  port: number;
}

/** Whether the policies let the connection through, on the pod's side. */
export function allowed(policies: readonly NamespacedPolicy[], connection: Connection): boolean {
  const { pod, direction } = connection;
  const selecting = policies.filter((p) => p.namespace === pod.namespace && selects(p.spec.podSelector, pod.labels) && (p.spec.policyTypes ?? ["Ingress"]).includes(direction));
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    ((direction === "Egress" ? p.spec.egress : p.spec.ingress) ?? []).some((rule) => {
      const peers = direction === "Egress" ? rule.to : rule.from;
      const peerOk = !peers || peers.length === 0 || peers.some((peer) => peerAdmits(peer, connection.peer, p.namespace));
      return peerOk && portAdmits(rule.ports, connection.protocol, connection.port, pod.namedPorts ?? {});
    }),
  );
}
