/**
 * Type tokens of the resources that hold data or make it readable: the database, the cache, buckets,
 * KMS keys (a deleted key makes every snapshot and recovery point encrypted with it unreadable) and
 * backup vaults. The program's protection defaults (components/protection.ts) and the
 * `aws-stateful-resource-protected` policy read this one list.
 */
export const STATEFUL_TYPES = [
  "aws:rds/instance:Instance",
  "aws:elasticache/replicationGroup:ReplicationGroup",
  "aws:s3/bucket:Bucket",
  "aws:kms/key:Key",
  "aws:backup/vault:Vault",
] as const;

export type StatefulType = (typeof STATEFUL_TYPES)[number];

export function isStatefulType(type: string): type is StatefulType {
  return (STATEFUL_TYPES as readonly string[]).includes(type);
}
