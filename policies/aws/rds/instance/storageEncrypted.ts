import { validateResourceOfType } from "@pulumi/policy";
import { Instance } from "@pulumi/aws/rds/instance";
import type { RunbookResourcePolicy } from "../../../lib/policy";

/**
 * `aws-rds-instance-storage-encrypted`: the database's storage, snapshots and PITR logs are
 * encrypted at rest. Severity high. Protects "Database: managed PostgreSQL" (and every snapshot the
 * restore drill restores).
 *
 * No remediation on purpose: turning storageEncrypted on replaces the instance, and a policy must not
 * quietly turn an update into a delete-and-recreate of the database.
 */
export const awsRdsInstanceStorageEncrypted: RunbookResourcePolicy = {
  name: "aws-rds-instance-storage-encrypted",
  description: "RDS instances encrypt storage, snapshots and backups at rest.",
  severity: "high",
  runbookLine: "Deployment topology: Database: managed PostgreSQL",
  remediationSteps: "Set storageEncrypted: true (with a KMS key). On an existing instance this replaces it: restore an encrypted copy of a snapshot instead.",
  validateResource: validateResourceOfType(Instance, (instance, _args, reportViolation) => {
    if (instance.storageEncrypted !== true) {
      reportViolation(`storageEncrypted is ${instance.storageEncrypted ?? "not set"}; the database and its snapshots must be encrypted at rest.`);
    }
  }),
};
