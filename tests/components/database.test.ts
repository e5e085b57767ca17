import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import {
  BACKUP_SERVICE_POLICIES,
  Database,
  parameterGroupFamily,
  POSTGRES_LOG_EXPORTS,
  validateDatabaseArgs,
  type DatabaseArgs,
} from "../../components/database";
import { MAX_BACKUP_RETENTION_DAYS, MIN_BACKUP_RETENTION_DAYS, type StackName } from "../../runbook";
import { ACCOUNT_ID, one, ofType, runProgram, type ProgramResult, type RecordedResource } from "../support/harness";
import { shippedStack } from "../../components/naming";

const KMS_ARN = new RegExp(`^arn:aws:kms:eu-west-1:${ACCOUNT_ID}:key/`);

/** What each stack file sets, and so what each stack must register. */
const EXPECTED = {
  staging: {
    instanceClass: "db.t4g.medium",
    allocatedStorage: 50,
    maxAllocatedStorage: 200,
    multiAz: false,
    deletionProtection: false,
    skipFinalSnapshot: true,
    finalSnapshotIdentifier: undefined,
    performanceInsightsRetentionPeriod: 7,
    maxConnections: 200,
    slowStatementMs: 500,
    dailyRetentionDays: 14,
  },
  production: {
    instanceClass: "db.r6g.large",
    allocatedStorage: 200,
    maxAllocatedStorage: 1000,
    multiAz: true,
    deletionProtection: true,
    skipFinalSnapshot: false,
    finalSnapshotIdentifier: "runbook-production-postgres-final",
    performanceInsightsRetentionPeriod: 31,
    maxConnections: 500,
    slowStatementMs: 250,
    dailyRetentionDays: 35,
  },
} as const;

function baseArgs(stack: StackName): DatabaseArgs {
  return {
    stack: shippedStack(stack),
    engineVersion: "16",
    instanceClass: "db.t4g.medium",
    allocatedStorageGb: 50,
    maxAllocatedStorageGb: 200,
    backupRetentionDays: MIN_BACKUP_RETENTION_DAYS[stack],
    multiAz: stack === "production",
    deletionProtection: stack === "production",
    skipFinalSnapshot: stack !== "production",
    performanceInsightsRetentionDays: 7,
    maxConnections: 200,
    slowStatementMs: 500,
    databaseName: "app",
    masterUsername: "app_admin",
    subnetIds: ["subnet-0a1b2c3d", "subnet-4e5f6a7b"],
    securityGroupId: "sg-0abc1234",
    backup: { schedule: "cron(0 3 * * ? *)", retentionDays: 14, continuousBackup: true },
    tags: {},
  };
}

const results = {} as Record<StackName, ProgramResult>;
beforeAll(async () => {
  results.staging = await runProgram({ stack: "staging" });
  results.production = await runProgram({ stack: "production" });
});

const children = (result: ProgramResult): RecordedResource[] => result.resources.filter((r) => r.parentName === "database");

describe.each(["staging", "production"] as const)("Database in %s", (stack) => {
  const expected = EXPECTED[stack];
  const instance = () => one(results[stack], "aws:rds/instance:Instance", "database-instance");
  const keyArn = () => results[stack].outputs.databaseKmsKeyArn as string;

  it("is one component whose children are all named after it", () => {
    const component = one(results[stack], "runbook-platform:data:Database");
    expect(component).toMatchObject({ name: "database", parent: undefined, custom: false });
    const kids = children(results[stack]);
    expect(kids.length).toBeGreaterThan(0);
    for (const child of kids) expect(child.name.startsWith(`${component.name}-`), child.name).toBe(true);
  });

  it("encrypts with its own rotating KMS key", () => {
    const key = one(results[stack], "aws:kms/key:Key", "database-key");
    expect(key.parentName).toBe("database");
    expect(key.inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    expect(keyArn()).toMatch(KMS_ARN);
  });

  it("runs PostgreSQL 16 privately, encrypted, with IAM auth and an RDS-managed master secret", () => {
    expect(instance().parentName).toBe("database");
    expect(instance().inputs).toMatchObject({
      identifier: `runbook-${stack}-postgres`,
      engine: "postgres",
      engineVersion: "16",
      instanceClass: expected.instanceClass,
      allocatedStorage: expected.allocatedStorage,
      maxAllocatedStorage: expected.maxAllocatedStorage,
      storageType: "gp3",
      storageEncrypted: true,
      kmsKeyId: keyArn(),
      dbName: "app",
      username: "app_admin",
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: keyArn(),
      iamDatabaseAuthenticationEnabled: true,
      port: 5432,
      publiclyAccessible: false,
      dbSubnetGroupName: `runbook-${stack}-postgres`,
      vpcSecurityGroupIds: [results[stack].outputs.databaseSecurityGroupId],
      parameterGroupName: `runbook-${stack}-postgres16`,
      copyTagsToSnapshot: true,
      deleteAutomatedBackups: false,
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: keyArn(),
      autoMinorVersionUpgrade: true,
      enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
      tags: { project: "runbook-platform", stack, "managed-by": "pulumi" },
    });
    expect(instance().inputs).not.toHaveProperty("password");
  });

  it("keeps automated backups (PITR) for the runbook's minimum in this stack", () => {
    expect(instance().inputs.backupRetentionPeriod).toBe(MIN_BACKUP_RETENTION_DAYS[stack]);
  });

  it("places the subnet group on the network's private subnets", () => {
    const subnets = one(results[stack], "aws:rds/subnetGroup:SubnetGroup", "database-subnets");
    expect(subnets.inputs).toMatchObject({ name: `runbook-${stack}-postgres`, subnetIds: results[stack].outputs.dataSubnetIds });
    expect(results[stack].outputs.dataSubnetIds).toHaveLength(stack === "production" ? 3 : 2);
  });

  it("forces TLS, logs slow statements and sets max_connections in a postgres16 parameter group", () => {
    const params = one(results[stack], "aws:rds/parameterGroup:ParameterGroup", "database-params");
    expect(params.inputs).toMatchObject({ name: `runbook-${stack}-postgres16`, family: "postgres16" });
    expect(params.inputs.parameters).toEqual([
      { name: "rds.force_ssl", value: "1" },
      { name: "log_min_duration_statement", value: String(expected.slowStatementMs) },
      { name: "max_connections", value: String(expected.maxConnections), applyMethod: "pending-reboot" },
    ]);
  });

  it("takes daily snapshots and keeps continuous backup (PITR) in an encrypted AWS Backup vault", () => {
    const vault = one(results[stack], "aws:backup/vault:Vault", "database-backup-vault");
    expect(vault.inputs).toMatchObject({ name: `runbook-${stack}-postgres`, kmsKeyArn: keyArn() });
    const plan = one(results[stack], "aws:backup/plan:Plan", "database-backup-plan");
    const rules = plan.inputs.rules as Record<string, unknown>[];
    expect(rules.map((r) => r.ruleName)).toEqual(["daily-snapshot", "continuous-pitr"]);
    expect(rules[0]).toMatchObject({
      targetVaultName: `runbook-${stack}-postgres`,
      schedule: "cron(0 3 * * ? *)",
      startWindow: 60,
      completionWindow: 480,
      lifecycle: { deleteAfter: expected.dailyRetentionDays },
    });
    expect(rules[0]).not.toHaveProperty("enableContinuousBackup");
    expect(rules[1]).toMatchObject({
      targetVaultName: `runbook-${stack}-postgres`,
      enableContinuousBackup: true,
      lifecycle: { deleteAfter: MIN_BACKUP_RETENTION_DAYS[stack] },
    });
    expect(rules[1]).not.toHaveProperty("copyActions");
  });

  it("selects the instance with a role that holds AWS Backup's managed policies", () => {
    const selection = one(results[stack], "aws:backup/selection:Selection", "database-backup-selection");
    const role = one(results[stack], "aws:iam/role:Role", "database-backup-role");
    expect(selection.inputs).toMatchObject({
      name: `runbook-${stack}-postgres`,
      resources: [results[stack].outputs.databaseArn],
      iamRoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/runbook-${stack}-postgres-backup`,
    });
    expect(selection.inputs.planId).toMatch(/^database-backup-plan-/);
    expect(JSON.parse(role.inputs.assumeRolePolicy as string)).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "backup.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
    const attached = ofType(results[stack], "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((r) => r.parentName === "database");
    expect(attached.map((a) => [a.name, a.inputs.policyArn, a.inputs.role])).toEqual([
      ["database-backup-role-backup", BACKUP_SERVICE_POLICIES.backup, `runbook-${stack}-postgres-backup`],
      ["database-backup-role-restores", BACKUP_SERVICE_POLICIES.restores, `runbook-${stack}-postgres-backup`],
    ]);
  });

  it("exports what the restore drill and the alarms read, with the connection string secret", () => {
    const { outputs, secretOutputs } = results[stack];
    const address = outputs.databaseAddress as string;
    expect(outputs).toMatchObject({
      databaseIdentifier: `runbook-${stack}-postgres`,
      databaseArn: `arn:aws:rds:eu-west-1:${ACCOUNT_ID}:db:runbook-${stack}-postgres`,
      databasePort: 5432,
      databaseName: "app",
      databaseMaxConnections: expected.maxConnections,
      databaseIamUsername: "app_iam",
      backupVaultName: `runbook-${stack}-postgres`,
      databaseUrl: `postgresql://app_iam@${address}:5432/app?sslmode=verify-full`,
      databaseIamConnectArn: `arn:aws:rds-db:eu-west-1:${ACCOUNT_ID}:dbuser:${outputs.databaseResourceId as string}/app_iam`,
    });
    expect(address).toMatch(new RegExp(`^runbook-${stack}-postgres\\..+\\.eu-west-1\\.rds\\.amazonaws\\.com$`));
    expect(outputs.databaseResourceId).toMatch(/^db-[0-9A-F]+$/);
    expect(outputs.databaseMasterUserSecretArn).toMatch(new RegExp(`^arn:aws:secretsmanager:eu-west-1:${ACCOUNT_ID}:secret:rds!db-`));
    expect(secretOutputs).toContain("databaseUrl");
    for (const plain of ["databaseAddress", "databasePort", "databaseMasterUserSecretArn", "databaseMaxConnections"]) {
      expect(secretOutputs).not.toContain(plain);
    }
  });
});

describe("Database: what differs between staging and production", () => {
  it.each(["staging", "production"] as const)("%s: size, availability, deletion safeguards and retention", (stack) => {
    const instance = one(results[stack], "aws:rds/instance:Instance", "database-instance");
    const expected = EXPECTED[stack];
    expect({
      instanceClass: instance.inputs.instanceClass,
      multiAz: instance.inputs.multiAz,
      deletionProtection: instance.inputs.deletionProtection,
      skipFinalSnapshot: instance.inputs.skipFinalSnapshot,
      finalSnapshotIdentifier: instance.inputs.finalSnapshotIdentifier,
      performanceInsightsRetentionPeriod: instance.inputs.performanceInsightsRetentionPeriod,
    }).toEqual({
      instanceClass: expected.instanceClass,
      multiAz: expected.multiAz,
      deletionProtection: expected.deletionProtection,
      skipFinalSnapshot: expected.skipFinalSnapshot,
      finalSnapshotIdentifier: expected.finalSnapshotIdentifier,
      performanceInsightsRetentionPeriod: expected.performanceInsightsRetentionPeriod,
    });
  });

  it("production keeps automated backups longer than staging", () => {
    const retention = (stack: StackName) => one(results[stack], "aws:rds/instance:Instance", "database-instance").inputs.backupRetentionPeriod as number;
    expect(retention("staging")).toBeGreaterThanOrEqual(MIN_BACKUP_RETENTION_DAYS.staging);
    expect(retention("production")).toBeGreaterThanOrEqual(MIN_BACKUP_RETENTION_DAYS.production);
    expect(retention("production")).toBeGreaterThan(retention("staging"));
  });

  it("production copies each daily snapshot to a vault in eu-central-1 under its own key; staging does not", () => {
    const copyKey = one(results.production, "aws:kms/key:Key", "database-copy-key");
    expect(copyKey.inputs).toMatchObject({ region: "eu-central-1", enableKeyRotation: true });
    const copyVault = one(results.production, "aws:backup/vault:Vault", "database-copy-vault");
    expect(copyVault.inputs).toMatchObject({ region: "eu-central-1", name: "runbook-production-postgres-copy" });
    expect(copyVault.inputs.kmsKeyArn).toMatch(/^arn:aws:kms:/);
    expect(copyVault.inputs.kmsKeyArn).not.toBe(results.production.outputs.databaseKmsKeyArn);
    const daily = (one(results.production, "aws:backup/plan:Plan", "database-backup-plan").inputs.rules as Record<string, unknown>[])[0];
    expect(daily?.copyActions).toEqual([
      { destinationVaultArn: `arn:aws:backup:eu-central-1:${ACCOUNT_ID}:backup-vault:runbook-production-postgres-copy`, lifecycle: { deleteAfter: 35 } },
    ]);

    expect(ofType(results.staging, "aws:backup/vault:Vault").filter((v) => v.parentName === "database").map((v) => v.name)).toEqual(["database-backup-vault"]);
    expect(ofType(results.staging, "aws:kms/key:Key").filter((k) => k.parentName === "database").map((k) => k.name)).toEqual(["database-key"]);
    const stagingDaily = (one(results.staging, "aws:backup/plan:Plan", "database-backup-plan").inputs.rules as Record<string, unknown>[])[0];
    expect(stagingDaily).not.toHaveProperty("copyActions");
  });
});

describe("Database: settings from config", () => {
  it("follows the engine version into the parameter group family and name", async () => {
    const result = await runProgram({ stack: "staging", config: { database: { engineVersion: "15" } } });
    expect(one(result, "aws:rds/instance:Instance", "database-instance").inputs.engineVersion).toBe("15");
    expect(one(result, "aws:rds/parameterGroup:ParameterGroup", "database-params").inputs).toMatchObject({ family: "postgres15", name: "runbook-staging-postgres15" });
  });

  it("keeps continuous backup for the instance's own PITR window, not the runbook minimum", async () => {
    const result = await runProgram({ stack: "staging", config: { database: { backupRetentionDays: 21 } } });
    expect(one(result, "aws:rds/instance:Instance", "database-instance").inputs.backupRetentionPeriod).toBe(21);
    const rules = one(result, "aws:backup/plan:Plan", "database-backup-plan").inputs.rules as Record<string, unknown>[];
    expect(rules[1]).toMatchObject({ ruleName: "continuous-pitr", lifecycle: { deleteAfter: 21 } });
  });

  it("drops the continuous-backup rule only when backup.continuousBackup is false", async () => {
    const result = await runProgram({ stack: "staging", config: { backup: { continuousBackup: false } } });
    const rules = one(result, "aws:backup/plan:Plan", "database-backup-plan").inputs.rules as Record<string, unknown>[];
    expect(rules.map((r) => r.ruleName)).toEqual(["daily-snapshot"]);
    expect(one(result, "aws:rds/instance:Instance", "database-instance").inputs.backupRetentionPeriod).toBe(MIN_BACKUP_RETENTION_DAYS.staging);
  });
});

describe("validateDatabaseArgs", () => {
  it("accepts the base args of both stacks", () => {
    expect(() => validateDatabaseArgs(baseArgs("staging"))).not.toThrow();
    expect(() => validateDatabaseArgs(baseArgs("production"))).not.toThrow();
  });

  it("refuses an engine version that is not a PostgreSQL major", () => {
    expect(() => validateDatabaseArgs({ ...baseArgs("staging"), engineVersion: "16.4" })).toThrow(
      'Database: engineVersion "16.4" is not a PostgreSQL major version from 13 to 17; give the major only (such as "16").',
    );
    expect(() => validateDatabaseArgs({ ...baseArgs("staging"), engineVersion: "12" })).toThrow(/engineVersion "12"/);
  });

  it.each([
    ["staging", MIN_BACKUP_RETENTION_DAYS.staging - 1],
    ["production", MIN_BACKUP_RETENTION_DAYS.production - 1],
    ["staging", 0],
  ] as const)("refuses %s backup retention of %i days", (stack, days) => {
    expect(() => validateDatabaseArgs({ ...baseArgs(stack), backupRetentionDays: days })).toThrow(
      `Database: backupRetentionDays is ${days}; expected at least ${MIN_BACKUP_RETENTION_DAYS[stack]} days in ${stack} (automated backups are what keep PITR on).`,
    );
  });

  it("refuses a backup retention RDS does not offer", () => {
    expect(() => validateDatabaseArgs({ ...baseArgs("production"), backupRetentionDays: MAX_BACKUP_RETENTION_DAYS + 1 })).toThrow(
      `Database: backupRetentionDays is ${MAX_BACKUP_RETENTION_DAYS + 1}; RDS keeps automated backups a whole number of days, at most ${MAX_BACKUP_RETENTION_DAYS}.`,
    );
  });

  it("refuses Performance Insights retention AWS does not offer", () => {
    expect(() => validateDatabaseArgs({ ...baseArgs("staging"), performanceInsightsRetentionDays: 30 })).toThrow(
      "Database: performanceInsightsRetentionDays is 30; use 7, or a multiple of 31 up to 731 (such as 31 or 93).",
    );
    expect(() => validateDatabaseArgs({ ...baseArgs("staging"), performanceInsightsRetentionDays: 93 })).not.toThrow();
  });

  it("refuses production without deletion protection or without a final snapshot", () => {
    expect(() => validateDatabaseArgs({ ...baseArgs("production"), deletionProtection: false })).toThrow(
      "Database: deletionProtection is false; expected true in production (the runbook's data must not be one command away from deletion).",
    );
    expect(() => validateDatabaseArgs({ ...baseArgs("production"), multiAz: false })).toThrow("Database: multiAz is false; expected true in production (a standby in another zone).");
    expect(() => validateDatabaseArgs({ ...baseArgs("production"), skipFinalSnapshot: true })).toThrow(
      "Database: production keeps a final snapshot; remove skipFinalSnapshot.",
    );
  });

  it("refuses a cross-region copy outside production, a storage ceiling below the size, and a non-cron schedule", () => {
    expect(() =>
      validateDatabaseArgs({ ...baseArgs("staging"), backup: { ...baseArgs("staging").backup, copyTo: { region: "eu-central-1", retentionDays: 14 } } }),
    ).toThrow('Database: backup.copyTo is {"region":"eu-central-1","retentionDays":14}; expected unset outside production (cross-region copies are a production safeguard).');
    expect(() => validateDatabaseArgs({ ...baseArgs("staging"), maxAllocatedStorageGb: 20 })).toThrow(
      "Database: maxAllocatedStorageGb is 20; expected at least allocatedStorageGb (50).",
    );
    expect(() => validateDatabaseArgs({ ...baseArgs("staging"), backup: { ...baseArgs("staging").backup, schedule: "daily" } })).toThrow(
      /backup.schedule "daily" is not an AWS cron expression/,
    );
  });

  it("refuses a daily or copy retention AWS Backup cannot keep", () => {
    const backup = baseArgs("production").backup;
    expect(() => validateDatabaseArgs({ ...baseArgs("production"), backup: { ...backup, retentionDays: 0 } })).toThrow(
      "Database: backup.retentionDays is 0; AWS Backup keeps a recovery point a whole number of days, at least 1.",
    );
    expect(() => validateDatabaseArgs({ ...baseArgs("production"), backup: { ...backup, copyTo: { region: "eu-central-1", retentionDays: 1.5 } } })).toThrow(
      "Database: backup.copyTo.retentionDays is 1.5; AWS Backup keeps a recovery point a whole number of days, at least 1.",
    );
  });

  it("derives the parameter group family from the major version", () => {
    expect(parameterGroupFamily("16")).toBe("postgres16");
    expect(parameterGroupFamily("17")).toBe("postgres17");
  });

  it("exports exactly the log streams the runbook's log checks read", () => {
    expect(POSTGRES_LOG_EXPORTS).toEqual(["postgresql", "upgrade"]);
  });
});

describe("Database transform", () => {
  it("hands the instance args to transform.instance and registers what it returns", async () => {
    const registered: Record<string, unknown>[] = [];
    await pulumi.runtime.setMocks(
      {
        newResource: ({ type, name, inputs }) => {
          if (type === "aws:rds/instance:Instance") registered.push(inputs as Record<string, unknown>);
          return { id: `${name}-id`, state: { ...inputs, arn: `arn:aws:test:eu-west-1:${ACCOUNT_ID}:${name}`, masterUserSecrets: [{ secretArn: "arn:secret" }] } };
        },
        call: () => ({}),
      },
      "runbook-platform",
      "staging",
      false,
    );
    const database = new Database("transformed", {
      ...baseArgs("staging"),
      transform: { instance: (args) => ({ ...args, backupWindow: "01:00-01:30", maintenanceWindow: "sun:02:00-sun:03:00" }) },
    });
    await new Promise((resolve) => database.identifier.apply(resolve));
    expect(registered).toHaveLength(1);
    expect(registered[0]).toMatchObject({ backupWindow: "01:00-01:30", maintenanceWindow: "sun:02:00-sun:03:00", storageEncrypted: true });
  });
});
