import { validateResourceOfType } from "@pulumi/policy";
import { Instance } from "@pulumi/aws/rds/instance";
import { ENVIRONMENTS, MAX_BACKUP_RETENTION_DAYS, MIN_BACKUP_RETENTION_DAYS } from "../../../lib/runbook";
import { configOf, environmentOf, type RunbookResourcePolicy } from "../../../lib/policy";

const RUNBOOK_LINE = "Backup and restore drill: 2. Keep PITR enabled (if provider supports it)";

/**
 * `aws-rds-instance-backup-enabled`: automated backups are on (retention above 0), which is what
 * keeps PITR on. Severity critical. Protects "Keep PITR enabled".
 */
export const awsRdsInstanceBackupEnabled: RunbookResourcePolicy = {
  name: "aws-rds-instance-backup-enabled",
  description: "RDS instances keep automated backups, so point-in-time recovery is on.",
  severity: "critical",
  runbookLine: RUNBOOK_LINE,
  remediationSteps: "Set backupRetentionPeriod (the database component's backupRetentionDays) to the runbook's minimum.",
  validateResource: validateResourceOfType(Instance, (instance, _args, reportViolation) => {
    const days = instance.backupRetentionPeriod;
    if (days === undefined) {
      reportViolation("backupRetentionPeriod is not set: RDS then keeps no automated backups, so there is no PITR.");
    } else if (days <= 0) {
      reportViolation(`backupRetentionPeriod is ${days}: automated backups, and with them PITR, are off.`);
    }
  }),
};

const retentionSchema = {
  properties: {
    minimumDays: {
      type: "integer" as const,
      minimum: 1,
      maximum: MAX_BACKUP_RETENTION_DAYS,
      description: "Override of the runbook minimum (runbook.ts MIN_BACKUP_RETENTION_DAYS for the stack's environment).",
    },
  },
};

/** The runbook minimum for the stack's environment; the lowest minimum when the environment is unknown. */
export function minimumRetentionDays(environment: string | undefined): number {
  const known = ENVIRONMENTS.find((e) => e === environment);
  return known ? MIN_BACKUP_RETENTION_DAYS[known] : Math.min(...ENVIRONMENTS.map((e) => MIN_BACKUP_RETENTION_DAYS[e]));
}

/**
 * `aws-rds-instance-backup-retention`: automated backups (the PITR window) are kept at least the
 * runbook's minimum for the stack (runbook.ts MIN_BACKUP_RETENTION_DAYS). Severity high. Protects
 * "Keep PITR enabled".
 */
export const awsRdsInstanceBackupRetention: RunbookResourcePolicy = {
  name: "aws-rds-instance-backup-retention",
  description: "RDS instances keep automated backups (the PITR window) at least the runbook's minimum for the stack.",
  severity: "high",
  runbookLine: RUNBOOK_LINE,
  configSchema: retentionSchema,
  remediationSteps: "Raise database.backupRetentionDays in the stack file to at least the minimum.",
  validateResource: validateResourceOfType(Instance, (instance, args, reportViolation) => {
    const environment = environmentOf(args.stackTags);
    const { minimumDays = minimumRetentionDays(environment) } = configOf<{ minimumDays?: number }>(retentionSchema, args.getConfig());
    const days = instance.backupRetentionPeriod ?? 0;
    if (days < minimumDays) {
      const where = environment ? `${environment} keeps` : "keep";
      reportViolation(`backupRetentionPeriod is ${instance.backupRetentionPeriod ?? "not set"}; ${where} automated backups (the PITR window) at least ${minimumDays} days.`);
    }
  }),
};
