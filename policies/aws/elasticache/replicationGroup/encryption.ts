import { validateResourceOfType } from "@pulumi/policy";
import { ReplicationGroup } from "@pulumi/aws/elasticache/replicationGroup";
import type { RunbookResourcePolicy } from "../../../lib/policy";

const RUNBOOK_LINE = "Deployment topology: Shared cache: Redis (webhook replay protection + distributed rate limiting)";

/**
 * `aws-elasticache-replication-group-transit-encryption`: clients reach Redis over TLS only.
 * Severity high. Protects "Shared cache: Redis". No remediation: it changes how every client
 * connects (rediss://), so it is a deliberate change, not a silent fix.
 */
export const awsElasticacheReplicationGroupTransitEncryption: RunbookResourcePolicy = {
  name: "aws-elasticache-replication-group-transit-encryption",
  description: "ElastiCache replication groups require TLS in transit.",
  severity: "high",
  runbookLine: RUNBOOK_LINE,
  remediationSteps: 'Set transitEncryptionEnabled: true and transitEncryptionMode: "required"; clients connect with rediss://.',
  validateResource: validateResourceOfType(ReplicationGroup, (group, _args, reportViolation) => {
    if (group.transitEncryptionEnabled !== true) {
      reportViolation(`transitEncryptionEnabled is ${group.transitEncryptionEnabled ?? "not set"}; replay-protection keys and the auth token must not cross the network in clear text.`);
    } else if (group.transitEncryptionMode === "preferred") {
      reportViolation('transitEncryptionMode is "preferred", which still accepts clear-text clients; use "required".');
    }
  }),
};

/**
 * `aws-elasticache-replication-group-at-rest-encryption`: cache data and snapshots are encrypted at
 * rest. Severity medium. Protects "Shared cache: Redis". No remediation: it replaces the group.
 */
export const awsElasticacheReplicationGroupAtRestEncryption: RunbookResourcePolicy = {
  name: "aws-elasticache-replication-group-at-rest-encryption",
  description: "ElastiCache replication groups encrypt data and snapshots at rest.",
  severity: "medium",
  runbookLine: RUNBOOK_LINE,
  remediationSteps: "Set atRestEncryptionEnabled: true (with a KMS key); on an existing group this replaces it.",
  validateResource: validateResourceOfType(ReplicationGroup, (group, _args, reportViolation) => {
    if (group.atRestEncryptionEnabled !== true) {
      reportViolation(`atRestEncryptionEnabled is ${group.atRestEncryptionEnabled ?? "not set"}; cache data and snapshots must be encrypted at rest.`);
    }
  }),
};

/**
 * `aws-elasticache-replication-group-auth`: clients authenticate (an AUTH token, or RBAC user
 * groups). Severity high. Protects "Shared cache: Redis" (a forged replay key lets a webhook replay).
 */
export const awsElasticacheReplicationGroupAuth: RunbookResourcePolicy = {
  name: "aws-elasticache-replication-group-auth",
  description: "ElastiCache replication groups require authentication (authToken or userGroupIds).",
  severity: "high",
  runbookLine: RUNBOOK_LINE,
  remediationSteps: "Set authToken from a secret (random.RandomPassword) or attach RBAC userGroupIds.",
  validateResource: validateResourceOfType(ReplicationGroup, (group, _args, reportViolation) => {
    const hasToken = typeof group.authToken === "string" && group.authToken.length > 0;
    const hasUsers = Array.isArray(group.userGroupIds) && group.userGroupIds.length > 0;
    if (!hasToken && !hasUsers) {
      reportViolation("neither authToken nor userGroupIds is set; any client in the network could read and forge replay-protection keys.");
    }
  }),
};
