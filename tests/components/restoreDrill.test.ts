import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { RestoreDrillArgs } from "../../components/restoreDrill";
import { STACKS, type StackName } from "../../runbook";
import { readStackFile } from "../support/harness";

/**
 * The RestoreDrill component under Pulumi's mock runtime, built with each stack's drill settings.
 * index.ts does not instantiate it yet (the lead wires it next to the Database component), so this
 * file registers it directly and records what reaches the mock monitor.
 */

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
let registered: Registered[] = [];
let component: typeof import("../../components/restoreDrill");

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: ({ type, name, inputs }) => {
        registered.push({ type, name, inputs: inputs as Record<string, unknown> });
        const bucket = type === "aws:s3/bucket:Bucket" ? { bucket: `${name}-bucket-1234`, arn: `arn:aws:s3:::${name}-bucket-1234` } : {};
        return { id: `${name}-id`, state: { ...inputs, ...bucket, arn: `arn:aws:mock:::${name}`, ...(type.includes("dynamic") ? { passed: true, rtoSeconds: 812.4 } : {}) } };
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
    stack,
    region: "eu-west-1",
    source: {
      identifier: `runbook-${stack}-postgres`,
      subnetGroupName: `runbook-${stack}-db-subnets`,
      securityGroupIds: ["sg-0123456789abcdef0"],
      databaseName: "runbook",
      kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/abcd",
    },
    mode: drill.mode,
    rtoTargetSeconds: drill.rtoTargetSeconds,
    expectedTables: drill.expectedTables,
    rowCountTolerancePercent: drill.rowCountTolerancePercent,
    recordRetentionDays: drill.recordRetentionDays,
    pageTopicArn: `arn:aws:sns:eu-west-1:123456789012:runbook-${stack}-page`,
    window: "2025-W03",
    tags: { project: "runbook-platform", stack },
    ...overrides,
  };
}

async function build(stack: StackName, overrides: Partial<RestoreDrillArgs> = {}) {
  registered = [];
  const drill = new component.RestoreDrill("restore-drill", args(stack, overrides));
  const passed = await new Promise((resolve) => drill.passed.apply(resolve));
  const bucketName = await new Promise((resolve) => drill.recordsBucketName.apply(resolve));
  const settings = (await import("@pulumi/pulumi/runtime/settings.js")) as unknown as { waitForRPCs(): Promise<void> };
  await settings.waitForRPCs();
  return { registered: [...registered], passed, bucketName };
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

  it("registers the RestoreDrill dynamic resource with the week, the rds backend in the source's network, and the config's checks", async () => {
    const { registered: r, passed } = await build(stack);
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
        region: "eu-west-1",
        sourceIdentifier: `runbook-${stack}-postgres`,
        subnetGroupName: `runbook-${stack}-db-subnets`,
        securityGroupIds: ["sg-0123456789abcdef0"],
        databaseName: "runbook",
      },
      integrity: { expectedTables: drill.expectedTables, tolerancePercent: drill.rowCountTolerancePercent },
      publish: { bucket: "restore-drill-records-bucket-1234", metrics: true, region: "eu-west-1" },
    });
    expect(passed).toBe(true);
    expect(r.some((x) => x.type === "pulumi-nodejs:dynamic/runbook-platform:IntegrityCheck")).toBe(false);
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

  it("falls back to SSE-S3 without a KMS key, and adds the live IntegrityCheck with a secret URL when asked", async () => {
    const { registered: r } = await build("staging", {
      source: { ...args("staging").source, kmsKeyArn: undefined },
      liveDatabaseUrl: "postgresql://checker:pw@db:5432/runbook?sslmode=verify-full",
    });
    expect(one(r, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs.rules).toEqual([
      { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
    ]);
    const check = one(r, "pulumi-nodejs:dynamic/runbook-platform:IntegrityCheck");
    expect(check.name).toBe("restore-drill-live-integrity");
    expect(check.inputs.window).toBe("2025-W03");
    expect(check.inputs.databaseUrl).toMatchObject({ [`4dabf18193072939515e22adb298388d`]: SECRET_SIG });
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
