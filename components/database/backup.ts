import * as pulumi from "@pulumi/pulumi";
import * as backup from "@pulumi/aws/backup";
import * as iam from "@pulumi/aws/iam";
import * as kms from "@pulumi/aws/kms";
import type * as inputs from "@pulumi/aws/types/input";
import type { StackIdentity } from "../naming";
import { physicalName } from "../naming";
import { forceDestroy, KMS_DELETION_WINDOW_DAYS, named, stateful } from "../protection";

/** AWS managed policies the AWS Backup service role needs to take and restore recovery points. */
export const BACKUP_SERVICE_POLICIES = {
  backup: "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
  restores: "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
} as const;

/**
 * A job that has not started within an hour is reported failed rather than left queued, and one
 * that runs past eight hours is cancelled: either way the next day's run is not blocked.
 */
const START_WINDOW_MINUTES = 60;
const COMPLETION_WINDOW_MINUTES = 480;

/** The automated daily snapshot plan ("Enable automated daily PostgreSQL snapshots"). */
export interface DatabaseBackupArgs {
  /**
   * When the daily backup starts, as a daily AWS cron expression in UTC.
   * @example "cron(0 3 * * ? *)"
   */
  schedule: string;
  /** Days each daily recovery point is kept. */
  retentionDays: number;
  /**
   * Adds an AWS Backup continuous-backup rule ("Keep PITR enabled"); its retention follows
   * `backupRetentionDays` so AWS Backup and RDS agree on the PITR window.
   */
  continuousBackup: boolean;
  /** Copies each daily recovery point to a vault in another region (production only). */
  copyTo?: { region: string; retentionDays: number };
}

export interface BackupPlanInputs {
  stack: StackIdentity;
  /** The instance's KMS key: the vault encrypts recovery points with it. */
  keyArn: pulumi.Input<string>;
  instanceArn: pulumi.Input<string>;
  /** The instance's automated-backup retention, which the continuous rule mirrors. */
  pitrRetentionDays: number;
  backup: DatabaseBackupArgs;
  tags: Record<string, string>;
}

/**
 * The AWS Backup side of the database: an encrypted vault, a plan with the daily rule (and its
 * cross-region copy) and the continuous-backup rule, and a selection covering the instance.
 * Children are `${name}-backup-*` under `parent`, the Database component.
 */
export function databaseBackup(name: string, parent: pulumi.Resource, args: BackupPlanInputs): { vault: backup.Vault; plan: backup.Plan; copyVault?: backup.Vault } {
  const { stack, tags, backup: backupArgs } = args;
  // Staging's `pulumi destroy` empties its vaults (forceDestroy); production's vaults keep their recovery points.
  const vault = new backup.Vault(
    `${name}-backup-vault`,
    { name: physicalName(stack, "postgres", "backup"), kmsKeyArn: args.keyArn, forceDestroy: forceDestroy(stack), tags },
    stateful(stack, "vault", parent, { deleteBeforeReplace: true }),
  );

  let copyVault: backup.Vault | undefined;
  const copyTo = backupArgs.copyTo;
  if (copyTo) {
    // KMS keys are regional: the copy is re-encrypted with a key in the destination region.
    const copyKey = new kms.Key(
      `${name}-copy-key`,
      {
        region: copyTo.region,
        description: `runbook-platform ${stack.name} PostgreSQL backup copies`,
        enableKeyRotation: true,
        deletionWindowInDays: KMS_DELETION_WINDOW_DAYS,
        tags,
      },
      stateful(stack, "key", parent),
    );
    copyVault = new backup.Vault(
      `${name}-copy-vault`,
      { region: copyTo.region, name: physicalName(stack, "postgres-copy", "backup"), kmsKeyArn: copyKey.arn, forceDestroy: forceDestroy(stack), tags },
      stateful(stack, "vault", parent, { deleteBeforeReplace: true }),
    );
  }

  const window = { targetVaultName: vault.name, schedule: backupArgs.schedule, startWindow: START_WINDOW_MINUTES, completionWindow: COMPLETION_WINDOW_MINUTES };
  const rules: inputs.backup.PlanRule[] = [
    {
      ruleName: "daily-snapshot",
      ...window,
      lifecycle: { deleteAfter: backupArgs.retentionDays },
      copyActions: copyVault && copyTo ? [{ destinationVaultArn: copyVault.arn, lifecycle: { deleteAfter: copyTo.retentionDays } }] : undefined,
    },
    ...(backupArgs.continuousBackup
      ? [
          {
            ruleName: "continuous-pitr",
            ...window,
            enableContinuousBackup: true,
            // AWS Backup takes over the instance's automated backups; the same window keeps both in step.
            lifecycle: { deleteAfter: args.pitrRetentionDays },
          },
        ]
      : []),
  ];
  const plan = new backup.Plan(`${name}-backup-plan`, { name: physicalName(stack, "postgres", "backup"), rules, tags }, named(parent));

  const role = new iam.Role(
    `${name}-backup-role`,
    {
      name: physicalName(stack, "postgres-backup", "iam"),
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "backup.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
      tags,
    },
    named(parent),
  );
  const attachments = Object.entries(BACKUP_SERVICE_POLICIES).map(
    ([purpose, policyArn]) => new iam.RolePolicyAttachment(`${name}-backup-role-${purpose}`, { role: role.name, policyArn }, { parent }),
  );
  new backup.Selection(
    `${name}-backup-selection`,
    { name: physicalName(stack, "postgres", "backup"), planId: plan.id, iamRoleArn: role.arn, resources: [args.instanceArn] },
    named(parent, { dependsOn: attachments }),
  );
  return copyVault ? { vault, plan, copyVault } : { vault, plan };
}
