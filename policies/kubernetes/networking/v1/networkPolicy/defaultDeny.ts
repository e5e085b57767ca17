import { resourcesOfType, type RunbookStackPolicy } from "../../../../lib/policy";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

interface Metadata {
  namespace?: string;
}
interface PolicySpec {
  podSelector?: { matchLabels?: object; matchExpressions?: unknown[] };
  policyTypes?: string[];
  ingress?: unknown[];
  egress?: unknown[];
}

const namespaceOf = (props: Record<string, unknown>) => (props.metadata as Metadata | undefined)?.namespace ?? "default";

/** A policy that selects every pod and admits nothing in both directions. */
function isDefaultDeny(spec: PolicySpec | undefined): boolean {
  const selector = spec?.podSelector ?? {};
  const selectsAll = Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
  const types = spec?.policyTypes ?? [];
  return selectsAll && types.includes("Ingress") && types.includes("Egress") && (spec?.ingress ?? []).length === 0 && (spec?.egress ?? []).length === 0;
}

/**
 * `kubernetes-namespace-default-deny`: every namespace the stack deploys workloads into has a
 * NetworkPolicy denying all ingress and egress, so only what a policy names is reachable.
 * Severity high. Protects the data tier and the API behind their NetworkPolicies.
 */
export const kubernetesNamespaceDefaultDeny: RunbookStackPolicy = {
  name: "kubernetes-namespace-default-deny",
  description: "Each namespace with Deployments has a default-deny NetworkPolicy (all pods, Ingress and Egress, no rules).",
  severity: "high",
  runbookLine: "Deployment topology: Backend API and Worker (pods reach only DNS, PostgreSQL, Redis and AWS APIs)",
  remediationSteps: "Add a NetworkPolicy with podSelector {} and policyTypes [Ingress, Egress] to the namespace (components/services/networkPolicies.ts).",
  validateStack: (args, reportViolation) => {
    const denied = new Set(
      resourcesOfType(args, NETWORK_POLICY)
        .filter((p) => isDefaultDeny(p.props.spec as PolicySpec | undefined))
        .map((p) => namespaceOf(p.props)),
    );
    for (const deployment of resourcesOfType(args, DEPLOYMENT)) {
      const namespace = namespaceOf(deployment.props);
      if (!denied.has(namespace)) reportViolation(`${deployment.name}: namespace ${namespace} has no default-deny NetworkPolicy; every pod can reach and be reached by anything.`, deployment.urn);
    }
  },
};
