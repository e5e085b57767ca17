import * as pulumi from "@pulumi/pulumi";
import * as cloudwatch from "@pulumi/aws/cloudwatch";
import * as iam from "@pulumi/aws/iam";
import * as s3 from "@pulumi/aws/s3";
import { DRILL_SOURCE_TAG, DRILL_TAG } from "../ops/restore/names";
import { DRILL_METRIC_DIMENSION, DRILL_METRIC_NAMESPACE, DRILL_METRICS } from "../ops/restore/publish";
import type { ValidationChecks } from "../ops/restore/validation";
import { isoWeek } from "../ops/restore/window";
import { IntegrityCheck } from "../providers/integrityCheck";
import { RestoreDrill as RestoreDrillResource } from "../providers/restoreDrill";
import { RESTORE_DRILL_CADENCE } from "../runbook";
import { DrillValidation } from "./drillValidation";
import { physicalName } from "./naming";
import { stateful } from "./protection";
import { validateRestoreDrillArgs, type RestoreDrillArgs } from "./restoreDrillArgs";
import { RestoreTesting } from "./restoreTesting";
import { tlsOnlyPolicy } from "./storage";

export { validateRestoreDrillArgs, type DrillSource, type RestoreDrillArgs } from "./restoreDrillArgs";

/**
 * The deploy runner's permissions for the deploy-time drill: describe, restore with the drill's tags,
 * modify and delete only instances tagged as this source's drills, invoke the validation function,
 * publish records and metrics.
 */
function drillRunnerPolicy(a: { functionArn: string; bucketArn: string; sourceIdentifier: string }): iam.PolicyDocument {
  const taggedAsDrill = { StringEquals: { [`aws:ResourceTag/${DRILL_TAG}`]: "true", [`aws:ResourceTag/${DRILL_SOURCE_TAG}`]: a.sourceIdentifier } };
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "Describe", Effect: "Allow", Action: ["rds:DescribeDBInstances", "rds:DescribeDBSnapshots"], Resource: ["*"] },
      {
        Sid: "RestoreTaggedAsDrill",
        Effect: "Allow",
        Action: ["rds:RestoreDBInstanceFromDBSnapshot", "rds:RestoreDBInstanceToPointInTime", "rds:AddTagsToResource"],
        Resource: ["arn:aws:rds:*:*:db:*"],
        Condition: { StringEquals: { [`aws:RequestTag/${DRILL_TAG}`]: "true", [`aws:RequestTag/${DRILL_SOURCE_TAG}`]: a.sourceIdentifier } },
      },
      {
        Sid: "RestoreFrom",
        Effect: "Allow",
        Action: ["rds:RestoreDBInstanceFromDBSnapshot", "rds:RestoreDBInstanceToPointInTime"],
        Resource: [`arn:aws:rds:*:*:db:${a.sourceIdentifier}`, "arn:aws:rds:*:*:snapshot:*", "arn:aws:rds:*:*:subgrp:*", "arn:aws:rds:*:*:og:*", "arn:aws:rds:*:*:pg:*"],
      },
      { Sid: "ModifyDeleteTaggedDrills", Effect: "Allow", Action: ["rds:ModifyDBInstance", "rds:DeleteDBInstance"], Resource: ["arn:aws:rds:*:*:db:*"], Condition: taggedAsDrill },
      { Sid: "Validate", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [a.functionArn] },
      { Sid: "Records", Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject"], Resource: [`${a.bucketArn}/drills/*`] },
      { Sid: "Metrics", Effect: "Allow", Action: ["cloudwatch:PutMetricData"], Resource: ["*"], Condition: { StringEquals: { "cloudwatch:namespace": DRILL_METRIC_NAMESPACE } } },
    ],
  };
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
  /** The in-VPC validation function (both drills and the live check run their checks there). */
  public readonly validationFunctionName: pulumi.Output<string>;
  public readonly restoreTestingPlanName: pulumi.Output<string>;
  /** Attach to the identity that runs `pulumi up`: the least the deploy-time drill needs. */
  public readonly runnerPolicyArn: pulumi.Output<string>;

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
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: source.kmsKeyArn }, bucketKeyEnabled: true }],
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

    const checks: ValidationChecks = { expectedTables: args.expectedTables, tolerancePercent: args.rowCountTolerancePercent };
    // The native weekly drill: AWS Backup restores the latest recovery point; the function validates it.
    const restoreTesting = new RestoreTesting(
      `${name}-restore-testing`,
      {
        stack,
        databaseArn: source.arn,
        vaultArn: source.backupVaultArn,
        kmsKeyArn: source.kmsKeyArn,
        subnetGroupName: source.subnetGroupName,
        securityGroupId: source.securityGroupId,
        tags,
      },
      { parent: this },
    );
    const validation = new DrillValidation(
      `${name}-validation`,
      {
        stack,
        region: args.aws.region,
        subnetIds: args.functionSubnetIds,
        securityGroupId: args.validationSecurityGroupId,
        databaseSecurityGroupId: source.securityGroupId,
        databasePort: source.port,
        masterUserSecretArn: source.masterUserSecretArn,
        kmsKeyArn: source.kmsKeyArn,
        recordsBucketName: bucket.bucket,
        recordsBucketArn: bucket.arn,
        restoreTesting: { planArn: restoreTesting.planArn, sourceIdentifier: source.identifier, databaseName: source.databaseName, checks },
        tags,
      },
      { parent: this, dependsOn: [versioning, encryption, publicAccessBlock] },
    );

    // The deploy-time drill: the provider calls AWS APIs only and invokes the function for the checks.
    const drill = new RestoreDrillResource(
      `${name}-drill`,
      {
        window,
        mode: args.mode,
        temporaryPrefix: physicalName(stack, "drill", "rds"),
        backend: pulumi
          .all([source.identifier, source.subnetGroupName, source.securityGroupId, source.databaseName, validation.functionName])
          .apply(([sourceIdentifier, subnetGroupName, securityGroupId, databaseName, validationFunction]) => ({
            kind: "rds" as const,
            aws: args.aws,
            sourceIdentifier,
            subnetGroupName,
            securityGroupIds: [securityGroupId],
            databaseName,
            validationFunction,
            ...(args.instanceClass ? { instanceClass: args.instanceClass } : {}),
          })),
        checks,
        publish: bucket.bucket.apply((recordsBucket) => ({ bucket: recordsBucket, metrics: true })),
      },
      // The record is written under the bucket's final settings; the function is in place to validate.
      { parent: this, dependsOn: [versioning, encryption, publicAccessBlock, validation] },
    );

    if (args.liveIntegrityCheck) {
      new IntegrityCheck(
        `${name}-live-integrity`,
        {
          window,
          target: pulumi
            .all([source.address, source.port, source.databaseName, source.masterUsername, source.masterUserSecretArn])
            .apply(([host, port, database, user, passwordSecretArn]) => ({ host, port, database, user, passwordSecretArn, tls: "rds" as const })),
          validationFunction: validation.functionName,
          aws: args.aws,
          checks: { ...checks, concurrency: 2, statementTimeoutMs: 300_000 },
        },
        { parent: this, dependsOn: [validation] },
      );
    }

    // What the identity running `pulumi up` needs for the drill, to attach to the deploy role: temporary
    // instances can only be created with the drill's tags, and modified or deleted only when they carry them.
    const runnerPolicy = new iam.Policy(
      `${name}-runner`,
      {
        name: physicalName(stack, "restore-drill-runner", "iam"),
        description: "Deploy-time restore drill: restore, modify and delete only instances tagged as drills; invoke the validation function",
        policy: pulumi
          .all([validation.functionArn, bucket.arn, source.identifier])
          .apply(([functionArn, bucketArn, sourceIdentifier]) => JSON.stringify(drillRunnerPolicy({ functionArn, bucketArn, sourceIdentifier }))),
        tags,
      },
      { parent: this },
    );

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
    this.validationFunctionName = validation.functionName;
    this.restoreTestingPlanName = restoreTesting.planName;
    this.runnerPolicyArn = runnerPolicy.arn;
    this.registerOutputs({
      validationFunctionName: this.validationFunctionName,
      restoreTestingPlanName: this.restoreTestingPlanName,
      runnerPolicyArn: this.runnerPolicyArn,
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
