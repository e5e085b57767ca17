import type * as pulumi from "@pulumi/pulumi";
import type { AwsTarget } from "../ops/restore/aws";
import { ISO_WEEK } from "../ops/restore/window";
import type { StackIdentity } from "./naming";

/**
 * What the RestoreDrill component takes (components/restoreDrill.ts builds it): the source database
 * as the Database component exposes it, the drill's settings from config, and the checks run before
 * anything is registered.
 */

/** The source database, as the Database component exposes it. */
export interface DrillSource {
  /** DB instance identifier of the source; only described, never modified. */
  identifier: pulumi.Input<string>;
  /** DB instance ARN (restore testing selects it). */
  arn: pulumi.Input<string>;
  /** Private DNS name and port of the source (the live integrity check connects there). */
  address: pulumi.Input<string>;
  port: pulumi.Input<number>;
  /** The source's DB subnet group: temporary instances are restored into it. */
  subnetGroupName: pulumi.Input<string>;
  /** The source's security group: temporary instances get it, and it admits the validation function. */
  securityGroupId: pulumi.Input<string>;
  /** Database name the readiness and integrity checks connect to. */
  databaseName: pulumi.Input<string>;
  /** The source's master user and its RDS-managed secret (live checks and restore tests read it). */
  masterUsername: pulumi.Input<string>;
  masterUserSecretArn: pulumi.Input<string>;
  /** The database's KMS key: drill records, the master secret and recovery points use it. */
  kmsKeyArn: pulumi.Input<string>;
  /** The daily backup vault (restore testing restores its latest recovery point). */
  backupVaultArn: pulumi.Input<string>;
}

export interface RestoreDrillArgs {
  stack: StackIdentity;
  /**
   * Where the drill's AWS calls go: the stack's AWS provider settings (aws:region, aws:profile,
   * aws:assumeRoles), so the deploy-time drill acts in the stack's account and region.
   */
  aws: AwsTarget;
  /**
   * Subnets of the validation function, in the database's VPC and with a route to the AWS APIs it
   * calls (S3, CloudWatch, Secrets Manager, AWS Backup): the cluster's private subnets, behind NAT.
   * Not the database's own subnets, which in `cluster.mode: create` are isolated (no route out).
   */
  functionSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  source: DrillSource;
  /** "snapshot": latest automated snapshot; "pitr": latest restorable time. Changing it re-runs the drill. */
  mode: "snapshot" | "pitr";
  /** The alarm pages when a drill's RTO exceeds this many seconds (config drill.rtoTargetSeconds). */
  rtoTargetSeconds: number;
  /** Tables the restored database must have (config drill.expectedTables). */
  expectedTables: string[];
  /** Allowed row-count difference when reference counts are given (config drill.rowCountTolerancePercent). */
  rowCountTolerancePercent: number;
  /** Drill records expire after this many days (config drill.recordRetentionDays). */
  recordRetentionDays: number;
  /** The validation function's security group (drillValidationSecurityGroup), which the database admits. */
  validationSecurityGroupId: pulumi.Input<string>;
  /** SNS topic the drill alarms page; from the Alarms component. */
  pageTopicArn: pulumi.Input<string>;
  /**
   * The ISO week the drill belongs to. A new week replaces the RestoreDrill resource, which runs the drill again.
   * @default isoWeek(new Date())
   */
  window?: string;
  /** Instance class of the temporary instance. @default the source's class */
  instanceClass?: string;
  /**
   * Also validate the live database each week (read-only), through the validation function with
   * the master secret. @default false
   */
  liveIntegrityCheck?: boolean;
  tags: Record<string, string>;
}

/** Throws a fixable message when the drill cannot be set up as asked. */
export function validateRestoreDrillArgs(args: RestoreDrillArgs): void {
  if (args.window !== undefined && !ISO_WEEK.test(args.window)) {
    throw new Error(`RestoreDrill: window is "${args.window}"; use an ISO week such as 2025-W03 (leave it unset for the current week).`);
  }
  if (!Number.isInteger(args.rtoTargetSeconds) || args.rtoTargetSeconds <= 0) {
    throw new Error(`RestoreDrill: rtoTargetSeconds is ${args.rtoTargetSeconds}; set drill.rtoTargetSeconds to a positive whole number of seconds.`);
  }
  if (args.expectedTables.length === 0) {
    throw new Error("RestoreDrill: expectedTables is empty; list the tables a restore must contain (drill.expectedTables).");
  }
  if (!Number.isInteger(args.recordRetentionDays) || args.recordRetentionDays < 1) {
    throw new Error(`RestoreDrill: recordRetentionDays is ${args.recordRetentionDays}; use at least 1 day.`);
  }
}

