import * as pulumi from "@pulumi/pulumi";
import * as backup from "@pulumi/aws/backup";
import * as iam from "@pulumi/aws/iam";
import { physicalName, type StackIdentity } from "./naming";

/**
 * AWS Backup restore testing as the native weekly drill ("Weekly restore test", RUNBOOK.md): every
 * week AWS Backup restores the latest recovery point of the database from its vault, the
 * validation function (DrillValidation, triggered by EventBridge) checks it and reports with
 * PutRestoreValidationResult, and AWS Backup deletes the restored instance. It runs whether or not
 * anyone runs `pulumi up`.
 */

/** Mondays 04:00 UTC, an hour after the 03:00 daily backup (runbook.ts RESTORE_DRILL_CRON, as an AWS cron). */
const RESTORE_TESTING_SCHEDULE = "cron(0 4 ? * MON *)";

export interface RestoreTestingArgs {
  stack: StackIdentity;
  /** The database (RDS DB instance ARN) whose recovery points are restored. */
  databaseArn: pulumi.Input<string>;
  /** The vault holding its daily recovery points. */
  vaultArn: pulumi.Input<string>;
  /** The database's KMS key (recovery points are encrypted with it). */
  kmsKeyArn: pulumi.Input<string>;
  /** Where the restored instance goes: the database's DB subnet group and security group. */
  subnetGroupName: pulumi.Input<string>;
  securityGroupId: pulumi.Input<string>;
  /** Hours the validation may take before AWS Backup deletes the instance. @default 2 */
  validationWindowHours?: number;
  /** @default RESTORE_TESTING_SCHEDULE */
  scheduleExpression?: string;
  tags: Record<string, string>;
}

/**
 * What the restore-testing role may do: restore RDS snapshots from the database's recovery points
 * into the database's network, tagging them; decrypt with the database's key through RDS. Deleting
 * the restored instance is done by AWS Backup's service-linked role, not this one.
 */
function restoreTestingPolicy(a: { kmsKeyArn: string; vaultArn: string }): iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ReadRecoveryPoints", Effect: "Allow", Action: ["backup:DescribeRecoveryPoint", "backup:GetRecoveryPointRestoreMetadata"], Resource: ["*"] },
      {
        Sid: "RestoreSnapshot",
        Effect: "Allow",
        Action: ["rds:RestoreDBInstanceFromDBSnapshot", "rds:AddTagsToResource"],
        Resource: ["arn:aws:rds:*:*:db:*", "arn:aws:rds:*:*:snapshot:awsbackup:*", "arn:aws:rds:*:*:subgrp:*", "arn:aws:rds:*:*:og:*", "arn:aws:rds:*:*:pg:*"],
      },
      { Sid: "DescribeForRestore", Effect: "Allow", Action: ["rds:DescribeDBInstances", "rds:DescribeDBSnapshots"], Resource: ["*"] },
      {
        Sid: "DatabaseKeyThroughRds",
        Effect: "Allow",
        Action: ["kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
        Resource: [a.kmsKeyArn],
        Condition: { StringLike: { "kms:ViaService": "rds.*.amazonaws.com" } },
      },
    ],
  };
}

export class RestoreTesting extends pulumi.ComponentResource {
  public readonly planArn: pulumi.Output<string>;
  public readonly planName: pulumi.Output<string>;
  public readonly selectionName: pulumi.Output<string>;
  public readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: RestoreTestingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook-platform:drill:RestoreTesting", name, {}, opts);
    const { stack, tags } = args;
    // Restore testing plan and selection names take letters, digits and underscores only.
    const underscored = (role: string) => physicalName(stack, role, "backup").replace(/-/g, "_");

    const plan = new backup.RestoreTestingPlan(
      `${name}-plan`,
      {
        name: underscored("restore-test"),
        scheduleExpression: args.scheduleExpression ?? RESTORE_TESTING_SCHEDULE,
        scheduleExpressionTimezone: "Etc/UTC",
        startWindowHours: 1,
        recoveryPointSelection: {
          algorithm: "LATEST_WITHIN_WINDOW",
          includeVaults: [args.vaultArn],
          recoveryPointTypes: ["SNAPSHOT"],
          selectionWindowDays: 7,
        },
        tags,
      },
      { parent: this },
    );

    const role = new iam.Role(
      `${name}-role`,
      {
        name: physicalName(stack, "restore-testing", "iam"),
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "backup.amazonaws.com" }, Action: "sts:AssumeRole" }],
        } satisfies iam.PolicyDocument),
        tags,
      },
      { parent: this },
    );
    const policy = new iam.RolePolicy(
      `${name}-policy`,
      {
        role: role.name,
        policy: pulumi.all([args.kmsKeyArn, args.vaultArn]).apply(([kmsKeyArn, vaultArn]) => JSON.stringify(restoreTestingPolicy({ kmsKeyArn, vaultArn }))),
      },
      { parent: this },
    );

    const selection = new backup.RestoreTestingSelection(
      `${name}-selection`,
      {
        name: underscored("database"),
        restoreTestingPlanName: plan.name,
        protectedResourceType: "RDS",
        protectedResourceArns: [args.databaseArn],
        iamRoleArn: role.arn,
        validationWindowHours: args.validationWindowHours ?? 2,
        // Into the database's own network, never public: the validation function reaches it there.
        restoreMetadataOverrides: pulumi.all([args.subnetGroupName, args.securityGroupId]).apply(([subnetGroupName, securityGroupId]) => ({
          dbSubnetGroupName: subnetGroupName,
          vpcSecurityGroupIds: JSON.stringify([securityGroupId]),
          publiclyAccessible: "false",
          multiAZ: "false",
        })),
      },
      { parent: this, dependsOn: [policy] },
    );

    this.planArn = plan.arn;
    this.planName = plan.name;
    this.selectionName = selection.name;
    this.roleArn = role.arn;
    this.registerOutputs({ planArn: this.planArn, planName: this.planName, selectionName: this.selectionName, roleArn: this.roleArn });
  }
}
