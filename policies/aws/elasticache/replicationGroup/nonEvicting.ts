import type { PolicyResource } from "@pulumi/policy";
import { ParameterGroup } from "@pulumi/aws/elasticache/parameterGroup";
import { ReplicationGroup } from "@pulumi/aws/elasticache/replicationGroup";
import { REPLAY_SAFE_MAXMEMORY_POLICIES } from "../../../lib/runbook";
import { configOf, pointingAt, type RunbookStackPolicy } from "../../../lib/policy";

const schema = {
  properties: {
    allowedPolicies: {
      type: "array" as const,
      items: { type: "string" as const },
      default: [...REPLAY_SAFE_MAXMEMORY_POLICIES],
      description: "maxmemory-policy values that never silently drop replay-protection or rate-limit keys.",
    },
  },
};

/** The maxmemory-policy a parameter group sets, if any. */
function maxmemoryPolicyOf(group: PolicyResource): string | undefined {
  const parameters = Array.isArray(group.props.parameters) ? (group.props.parameters as { name?: string; value?: string }[]) : [];
  return parameters.find((p) => p.name === "maxmemory-policy")?.value;
}

/**
 * `aws-elasticache-replication-group-non-evicting`: every replication group uses a parameter group
 * of the stack whose maxmemory-policy never evicts keys (the engine's default, volatile-lru, does).
 * Severity high. Protects "Shared cache: Redis (webhook replay protection + distributed rate limiting)".
 */
export const awsElasticacheReplicationGroupNonEvicting: RunbookStackPolicy = {
  name: "aws-elasticache-replication-group-non-evicting",
  description: "ElastiCache replication groups use a parameter group with a non-evicting maxmemory-policy.",
  severity: "high",
  runbookLine: "Deployment topology: Shared cache: Redis (webhook replay protection + distributed rate limiting)",
  configSchema: schema,
  remediationSteps: 'Give the group an aws.elasticache.ParameterGroup with maxmemory-policy "noeviction".',
  validateStack: (args, reportViolation) => {
    const { allowedPolicies } = configOf<{ allowedPolicies: string[] }>(schema, args.getConfig());
    const parameterGroups = args.resources.filter((r) => r.isType(ParameterGroup));
    for (const group of args.resources.filter((r) => r.isType(ReplicationGroup))) {
      const named = group.props.parameterGroupName;
      const mine = parameterGroups.filter((pg) => pointingAt([group], "parameterGroupName", pg, ["name", "id"]).length > 0);
      if (mine.length === 0) {
        const which = typeof named === "string" ? `"${named}", which is not managed by this stack` : "the engine's default";
        reportViolation(`${group.name}: uses parameter group ${which}; its maxmemory-policy (volatile-lru by default) evicts keys.`, group.urn);
        continue;
      }
      const policy = mine.map(maxmemoryPolicyOf).find((p) => p !== undefined);
      if (policy === undefined || !allowedPolicies.includes(policy)) {
        reportViolation(`${group.name}: maxmemory-policy is ${policy ?? "not set (volatile-lru)"}; allowed: ${allowedPolicies.join(", ")}.`, group.urn);
      }
    }
  },
};
