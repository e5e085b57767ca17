import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { RestoreDrillArgs } from "../../components/restoreDrill";
import { STACKS, type StackName } from "../../runbook";
import { readStackFile } from "../support/harness";
import { shippedStack } from "../../components/naming";

/**
 * The RestoreDrill component under Pulumi's mock runtime, built with each stack's drill settings:
 * the records bucket, AWS Backup restore testing, the in-VPC validation function with its trigger
 * and IAM, the deploy-time RestoreDrill resource and the alarms. The whole program's wiring (the
 * function in the database's subnets) is asserted in restoreDrill.program.test.ts.
 */

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

let registered: Registered[] = [];
let component: typeof import("../../components/restoreDrill");

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: ({ type, name, inputs }) => {
        registered.push({ type, name, inputs: inputs as Record<string, unknown> });
        const bucket = type === "aws:s3/bucket:Bucket" ? { bucket: `${name}-bucket-1234`, arn: `arn:aws:s3:::${name}-bucket-1234` } : {};
        return { id: `${name}-id`, state: { ...inputs, arn: `arn:aws:mock:::${name}`, ...bucket } };
      },
      call: () => ({}),
    },
    "runbook-platform",
    "staging",
    false,
  );
  component = await import("../../components/restoreDrill.js");
});

function drillConfig(stack: StackName) {
  return readStackFile(stack)["runbook-platform:drill"] as {
    mode: "snapshot" | "pitr";
    rtoTargetSeconds: number;
    expectedTables: string[];
    rowCountTolerancePercent: number;
    recordRetentionDays: number;
  };
}

function args(stack: StackName, overrides: Partial<RestoreDrillArgs> = {}): RestoreDrillArgs {
  const drill = drillConfig(stack);
  return {
    stack: shippedStack(stack),
    aws: { region: "eu-west-1" },
    functionSubnetIds: ["subnet-a", "subnet-b"],
    source: {
      identifier: `runbook-${stack}-postgres`,
      arn: `arn:aws:rds:eu-west-1:123456789012:db:runbook-${stack}-postgres`,
      address: `runbook-${stack}-postgres.abc.eu-west-1.rds.amazonaws.com`,
      port: 5432,
      subnetGroupName: `runbook-${stack}-db-subnets`,
      securityGroupId: "sg-0123456789abcdef0",
      databaseName: "runbook",
      masterUsername: "runbook_admin",
      masterUserSecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1",
      kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/abcd",
      backupVaultArn: `arn:aws:backup:eu-west-1:123456789012:backup-vault:runbook-${stack}-postgres`,
    },
    mode: drill.mode,
    rtoTargetSeconds: drill.rtoTargetSeconds,
    expectedTables: drill.expectedTables,
    rowCountTolerancePercent: drill.rowCountTolerancePercent,
    recordRetentionDays: drill.recordRetentionDays,
    validationSecurityGroupId: "sg-validation",
    pageTopicArn: `arn:aws:sns:eu-west-1:123456789012:runbook-${stack}-page`,
    window: "2025-W03",
    tags: { project: "runbook-platform", stack },
    ...overrides,
  };
}

async function build(stack: StackName, overrides: Partial<RestoreDrillArgs> = {}) {
  registered = [];
  const drill = new component.RestoreDrill("restore-drill", args(stack, overrides));
  const bucketName = await new Promise((resolve) => drill.recordsBucketName.apply(resolve));
  const settings = (await import("@pulumi/pulumi/runtime/settings.js")) as unknown as { waitForRPCs(): Promise<void> };
  await settings.waitForRPCs();
  return { registered: [...registered], bucketName };
}

const one = (list: Registered[], type: string) => {
  const found = list.filter((r) => r.type === type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0] as Registered;
};

describe.each(STACKS)("RestoreDrill component (%s)", (stack) => {
  it("builds the records bucket: versioned, encrypted with the database's key, public access blocked, TLS only, records expiring", async () => {
    const { registered: r, bucketName } = await build(stack);
    const drill = drillConfig(stack);
    expect(bucketName).toBe("restore-drill-records-bucket-1234");
    expect(one(r, "aws:s3/bucket:Bucket").inputs).toMatchObject({ bucketPrefix: `runbook-${stack}-drill-records-` });
    expect(one(r, "aws:s3/bucketVersioning:BucketVersioning").inputs.versioningConfiguration).toEqual({ status: "Enabled" });
    expect(one(r, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs.rules).toEqual([
      { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "arn:aws:kms:eu-west-1:123456789012:key/abcd" }, bucketKeyEnabled: true },
    ]);
    expect(one(r, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(one(r, "aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs.rule).toEqual({ objectOwnership: "BucketOwnerEnforced" });
    expect(JSON.parse(String(one(r, "aws:s3/bucketPolicy:BucketPolicy").inputs.policy)).Statement[0].Condition).toEqual({ Bool: { "aws:SecureTransport": "false" } });
    expect(one(r, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs.rules).toEqual([
      {
        id: "expire-drill-records",
        status: "Enabled",
        filter: { prefix: "drills/" },
        expiration: { days: drill.recordRetentionDays },
        noncurrentVersionExpiration: { noncurrentDays: drill.recordRetentionDays },
      },
    ]);
  });

  it("registers the RestoreDrill dynamic resource: the week, the stack's AWS settings, the source's network, the validation function", async () => {
    const { registered: r } = await build(stack, { aws: { region: "eu-west-1", profile: "ops", assumeRole: { roleArn: "arn:aws:iam::123456789012:role/deploy" } } });
    const drill = drillConfig(stack);
    const resource = one(r, "pulumi-nodejs:dynamic/runbook-platform:RestoreDrill");
    expect(resource.name).toBe("restore-drill-drill");
    expect(typeof resource.inputs.__provider).toBe("string");
    const { __provider, ...inputs } = resource.inputs;
    expect(inputs).toEqual({
      window: "2025-W03",
      mode: drill.mode,
      temporaryPrefix: `runbook-${stack}-drill`,
      backend: {
        kind: "rds",
        aws: { region: "eu-west-1", profile: "ops", assumeRole: { roleArn: "arn:aws:iam::123456789012:role/deploy" } },
        sourceIdentifier: `runbook-${stack}-postgres`,
        subnetGroupName: `runbook-${stack}-db-subnets`,
        securityGroupIds: ["sg-0123456789abcdef0"],
        databaseName: "runbook",
        validationFunction: `runbook-${stack}-drill-validation`,
      },
      checks: { expectedTables: drill.expectedTables, tolerancePercent: drill.rowCountTolerancePercent },
      publish: { bucket: "restore-drill-records-bucket-1234", metrics: true },
    });
    expect(r.some((x) => x.type === "pulumi-nodejs:dynamic/runbook-platform:IntegrityCheck")).toBe(false);
  });

  it("runs AWS Backup restore testing weekly on the latest recovery point of the database's vault, into the database's network", async () => {
    const { registered: r } = await build(stack);
    expect(one(r, "aws:backup/restoreTestingPlan:RestoreTestingPlan").inputs).toEqual({
      name: `runbook_${stack}_restore_test`,
      scheduleExpression: "cron(0 4 ? * MON *)",
      scheduleExpressionTimezone: "Etc/UTC",
      startWindowHours: 1,
      recoveryPointSelection: {
        algorithm: "LATEST_WITHIN_WINDOW",
        includeVaults: [`arn:aws:backup:eu-west-1:123456789012:backup-vault:runbook-${stack}-postgres`],
        recoveryPointTypes: ["SNAPSHOT"],
        selectionWindowDays: 7,
      },
      tags: { project: "runbook-platform", stack },
    });
    expect(one(r, "aws:backup/restoreTestingSelection:RestoreTestingSelection").inputs).toEqual({
      name: `runbook_${stack}_database`,
      restoreTestingPlanName: `runbook_${stack}_restore_test`,
      protectedResourceType: "RDS",
      protectedResourceArns: [`arn:aws:rds:eu-west-1:123456789012:db:runbook-${stack}-postgres`],
      iamRoleArn: "arn:aws:mock:::restore-drill-restore-testing-role",
      validationWindowHours: 2,
      restoreMetadataOverrides: { dbSubnetGroupName: `runbook-${stack}-db-subnets`, vpcSecurityGroupIds: '["sg-0123456789abcdef0"]', publiclyAccessible: "false", multiAZ: "false" },
    });
  });

  it("puts the validation function in the database's subnets, admitted by the database's security group, triggered by completed restore jobs", async () => {
    const { registered: r } = await build(stack);
    const fn = one(r, "aws:lambda/function:Function").inputs;
    expect(fn).toMatchObject({
      name: `runbook-${stack}-drill-validation`,
      runtime: "nodejs20.x",
      handler: "index.handler",
      timeout: 900,
      vpcConfig: { subnetIds: ["subnet-a", "subnet-b"], securityGroupIds: ["sg-validation"] },
      role: "arn:aws:mock:::restore-drill-validation-role",
      environment: {
        variables: {
          RESTORE_TESTING_PLAN_ARN: "arn:aws:mock:::restore-drill-restore-testing-plan",
          RESTORE_TESTING_SOURCE: `runbook-${stack}-postgres`,
          RESTORE_TESTING_DATABASE: "runbook",
          RESTORE_TESTING_SECRET_ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1",
          RESTORE_TESTING_CHECKS: JSON.stringify({ expectedTables: drillConfig(stack).expectedTables, tolerancePercent: drillConfig(stack).rowCountTolerancePercent }),
          DRILL_RECORDS_BUCKET: "restore-drill-records-bucket-1234",
        },
      },
    });
    // Egress only, as separate rules on the function's own group; the database's group admits it (program test).
    expect(r.filter((x) => x.type === "aws:ec2/securityGroup:SecurityGroup" || x.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")).toEqual([]);
    expect(r.filter((x) => x.type === "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").map((x) => x.inputs)).toEqual([
      expect.objectContaining({ securityGroupId: "sg-validation", referencedSecurityGroupId: "sg-0123456789abcdef0", ipProtocol: "tcp", fromPort: 5432, toPort: 5432 }),
      expect.objectContaining({ securityGroupId: "sg-validation", cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 443, toPort: 443 }),
    ]);
    expect(JSON.parse(String(one(r, "aws:cloudwatch/eventRule:EventRule").inputs.eventPattern))).toEqual({
      source: ["aws.backup"],
      "detail-type": ["Restore Job State Change"],
      detail: { status: ["COMPLETED"], resourceType: ["RDS"] },
    });
    expect(one(r, "aws:cloudwatch/eventTarget:EventTarget").inputs).toMatchObject({ arn: "arn:aws:mock:::restore-drill-validation-function" });
    expect(one(r, "aws:lambda/permission:Permission").inputs).toMatchObject({
      action: "lambda:InvokeFunction",
      principal: "events.amazonaws.com",
      sourceArn: "arn:aws:mock:::restore-drill-validation-restore-job-completed",
    });
  });

  it("grants least privilege: the function, the restore-testing role and the deploy runner", async () => {
    const { registered: r } = await build(stack);
    const policies = r.filter((x) => x.type === "aws:iam/rolePolicy:RolePolicy");
    const byName = (name: string) => JSON.parse(String(policies.find((p) => p.name === name)?.inputs.policy)) as { Statement: Record<string, unknown>[] };
    const fnPolicy = byName("restore-drill-validation-policy");
    expect(fnPolicy.Statement.map((s) => [s.Sid, s.Action, s.Resource])).toEqual([
      ["DrillRecords", ["s3:PutObject"], ["arn:aws:s3:::restore-drill-records-bucket-1234/drills/*"]],
      ["DrillMetrics", ["cloudwatch:PutMetricData"], ["*"]],
      ["RestoreTestingReport", ["backup:DescribeRestoreJob", "backup:PutRestoreValidationResult"], ["*"]],
      ["FindRestoredInstance", ["rds:DescribeDBInstances"], ["*"]],
      ["MasterSecret", ["secretsmanager:GetSecretValue"], ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1"]],
      ["MasterSecretKey", ["kms:Decrypt"], ["arn:aws:kms:eu-west-1:123456789012:key/abcd"]],
    ]);
    expect(fnPolicy.Statement[1]?.Condition).toEqual({ StringEquals: { "cloudwatch:namespace": "RunbookPlatform/RestoreDrill" } });
    // No write to RDS at all, and nothing that deletes.
    expect(JSON.stringify(fnPolicy)).not.toMatch(/rds:(Modify|Delete|Restore)|s3:Delete|\*:\*/);
    const restorePolicy = byName("restore-drill-restore-testing-policy");
    expect(restorePolicy.Statement.flatMap((s) => s.Action as string[])).toEqual([
      "backup:DescribeRecoveryPoint",
      "backup:GetRecoveryPointRestoreMetadata",
      "rds:RestoreDBInstanceFromDBSnapshot",
      "rds:AddTagsToResource",
      "rds:DescribeDBInstances",
      "rds:DescribeDBSnapshots",
      "kms:CreateGrant",
      "kms:DescribeKey",
      "kms:Decrypt",
      "kms:GenerateDataKey*",
      "kms:ReEncrypt*",
    ]);
    const trust = (name: string) => JSON.parse(String(r.find((x) => x.type === "aws:iam/role:Role" && x.name === name)?.inputs.assumeRolePolicy)) as { Statement: { Principal: unknown }[] };
    expect(trust("restore-drill-validation-role").Statement[0]?.Principal).toEqual({ Service: "lambda.amazonaws.com" });
    expect(trust("restore-drill-restore-testing-role").Statement[0]?.Principal).toEqual({ Service: "backup.amazonaws.com" });
    const runner = JSON.parse(String(one(r, "aws:iam/policy:Policy").inputs.policy)) as { Statement: { Sid: string; Action: string[]; Condition?: unknown }[] };
    const tagged = { StringEquals: { "aws:ResourceTag/runbook-drill": "true", "aws:ResourceTag/runbook-drill-source": `runbook-${stack}-postgres` } };
    expect(runner.Statement.find((s) => s.Sid === "ModifyDeleteTaggedDrills")).toMatchObject({ Action: ["rds:ModifyDBInstance", "rds:DeleteDBInstance"], Condition: tagged });
    // Every statement that can delete or modify an instance carries the drill's tags.
    for (const statement of runner.Statement.filter((s) => s.Action.some((a) => /rds:(Delete|Modify)/.test(a)))) expect(statement.Condition).toEqual(tagged);
    expect(runner.Statement.find((s) => s.Sid === "Validate")).toMatchObject({ Action: ["lambda:InvokeFunction"], Resource: ["arn:aws:mock:::restore-drill-validation-function"] });
  });

  it("pages on a failed drill and on an RTO above the configured target", async () => {
    const { registered: r } = await build(stack);
    const alarms = r.filter((x) => x.type === "aws:cloudwatch/metricAlarm:MetricAlarm");
    const common = {
      namespace: "RunbookPlatform/RestoreDrill",
      dimensions: { DBInstanceIdentifier: `runbook-${stack}-postgres` },
      period: 86_400,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: "notBreaching",
      alarmActions: [`arn:aws:sns:eu-west-1:123456789012:runbook-${stack}-page`],
      okActions: [`arn:aws:sns:eu-west-1:123456789012:runbook-${stack}-page`],
    };
    expect(alarms.map((a) => a.name)).toEqual(["restore-drill-failed", "restore-drill-rto"]);
    expect(alarms[0]?.inputs).toMatchObject({
      ...common,
      name: `runbook-${stack}-restore-drill-failed`,
      metricName: "RestoreDrillSucceeded",
      statistic: "Minimum",
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
    });
    expect(alarms[1]?.inputs).toMatchObject({
      ...common,
      name: `runbook-${stack}-restore-drill-rto`,
      metricName: "RestoreDrillRtoSeconds",
      statistic: "Maximum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: drillConfig(stack).rtoTargetSeconds,
    });
  });

  it("names every child after the component", async () => {
    const { registered: r } = await build(stack);
    for (const child of r.filter((x) => x.type !== "runbook-platform:drill:RestoreDrill")) expect(child.name.startsWith("restore-drill-")).toBe(true);
  });
});

describe("RestoreDrill component options", () => {
  it("staging restores the latest snapshot, production the latest restorable time", () => {
    expect(drillConfig("staging").mode).toBe("snapshot");
    expect(drillConfig("production").mode).toBe("pitr");
  });

  it("adds the live IntegrityCheck when asked: through the validation function, credentials from the master secret, no password input", async () => {
    const { registered: r } = await build("staging", { liveIntegrityCheck: true });
    const check = one(r, "pulumi-nodejs:dynamic/runbook-platform:IntegrityCheck");
    expect(check.name).toBe("restore-drill-live-integrity");
    const { __provider, ...inputs } = check.inputs;
    expect(inputs).toEqual({
      window: "2025-W03",
      target: {
        host: "runbook-staging-postgres.abc.eu-west-1.rds.amazonaws.com",
        port: 5432,
        database: "runbook",
        user: "runbook_admin",
        passwordSecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1",
        tls: "rds",
      },
      validationFunction: "runbook-staging-drill-validation",
      aws: { region: "eu-west-1" },
      checks: { expectedTables: drillConfig("staging").expectedTables, tolerancePercent: drillConfig("staging").rowCountTolerancePercent, concurrency: 2, statementTimeoutMs: 300_000 },
    });
  });

  it("uses the current ISO week when no window is given", async () => {
    const { isoWeek } = await import("../../ops/restore/window.js");
    const { registered: r } = await build("staging", { window: undefined });
    expect(one(r, "pulumi-nodejs:dynamic/runbook-platform:RestoreDrill").inputs.window).toBe(isoWeek(new Date()));
  });

  it("validates its args with fixable messages", () => {
    expect(() => component.validateRestoreDrillArgs(args("staging", { window: "2025-03" }))).toThrow(
      'RestoreDrill: window is "2025-03"; use an ISO week such as 2025-W03 (leave it unset for the current week).',
    );
    expect(() => component.validateRestoreDrillArgs(args("staging", { rtoTargetSeconds: 0 }))).toThrow(
      "RestoreDrill: rtoTargetSeconds is 0; set drill.rtoTargetSeconds to a positive whole number of seconds.",
    );
    expect(() => component.validateRestoreDrillArgs(args("staging", { expectedTables: [] }))).toThrow(
      "RestoreDrill: expectedTables is empty; list the tables a restore must contain (drill.expectedTables).",
    );
  });
});
