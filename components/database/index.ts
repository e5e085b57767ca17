import * as pulumi from "@pulumi/pulumi";
import * as kms from "@pulumi/aws/kms";
import * as rds from "@pulumi/aws/rds";
import { MAX_BACKUP_RETENTION_DAYS, MIN_BACKUP_RETENTION_DAYS, type Environment } from "../../runbook";
import type { StackIdentity } from "../naming";
import { physicalName } from "../naming";
import { POSTGRES_PORT } from "../network";
import { assertNoProblems, type SettingProblem } from "../problems";
import { KMS_DELETION_WINDOW_DAYS, named, stateful } from "../protection";
import { databaseBackup, type DatabaseBackupArgs } from "./backup";

export { BACKUP_SERVICE_POLICIES, type DatabaseBackupArgs } from "./backup";

/** Log streams RDS PostgreSQL exports to CloudWatch Logs ("Inspect structured logs"). */
export const POSTGRES_LOG_EXPORTS = ["postgresql", "upgrade"] as const;

export interface DatabaseArgs {
  /** Stack the database belongs to; part of every physical name and of the safeguards applied. */
  stack: StackIdentity;
  /**
   * PostgreSQL major version; RDS picks the newest minor and `autoMinorVersionUpgrade` keeps it current.
   * Changing it is a major version upgrade and replaces the parameter group.
   * @default "16"
   */
  engineVersion?: string;
  /** RDS instance class. @example "db.r6g.large" */
  instanceClass: string;
  /** Initial gp3 storage in GiB. */
  allocatedStorageGb: number;
  /** Storage autoscaling ceiling in GiB. */
  maxAllocatedStorageGb: number;
  /** Automated backup retention; PITR exists exactly while this is above 0. */
  backupRetentionDays: number;
  /** A standby in a second availability zone. */
  multiAz: boolean;
  /** Refuses deletion of the instance while on. */
  deletionProtection: boolean;
  /**
   * Skips the snapshot RDS takes when the instance is deleted. Refused in production.
   * @default false
   */
  skipFinalSnapshot?: boolean;
  /** Performance Insights retention: 7, or a multiple of 31 up to 731. */
  performanceInsightsRetentionDays: number;
  /** PostgreSQL max_connections; the connection-saturation alarm reads it back from `maxConnections`. */
  maxConnections: number;
  /** Statements slower than this many milliseconds are logged (log_min_duration_statement). */
  slowStatementMs: number;
  /** Database created with the instance. Changing it replaces the instance. */
  databaseName: string;
  /** Master user; its password lives in Secrets Manager, managed and rotated by RDS. Changing it replaces the instance. */
  masterUsername: string;
  /**
   * Database role the application logs in as with IAM authentication (`GRANT rds_iam TO <role>`).
   * @default "app_iam"
   */
  iamUsername?: string;
  /** Private subnets of the DB subnet group, in at least two availability zones. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Security group that admits PostgreSQL from the application only. */
  securityGroupId: pulumi.Input<string>;
  /** Daily snapshots, continuous backup and the optional cross-region copy. */
  backup: DatabaseBackupArgs;
  /** Tags for every taggable child. */
  tags: Record<string, string>;
  /** Reach the instance's raw args for settings this interface does not offer. */
  transform?: { instance?: (args: rds.InstanceArgs) => rds.InstanceArgs };
}

/** `postgres16` from `16`: RDS parameter group families follow the major version. */
export function parameterGroupFamily(engineVersion: string): string {
  return `postgres${engineVersion.split(".")[0]}`;
}

/** The database settings the shared rules read; `backup.copyTo` is the cross-region copy, if any. */
export interface DatabaseRuleSettings {
  environment: Environment;
  backupRetentionDays: number;
  allocatedStorageGb: number;
  maxAllocatedStorageGb: number;
  multiAz: boolean;
  deletionProtection: boolean;
}

/**
 * The database rules config.ts and validateDatabaseArgs share: the runbook's backup retention per
 * environment (automated backups are what keep PITR on), a storage autoscaling ceiling at or above
 * the initial size, and production's Multi-AZ and deletion protection.
 */
export function databaseProblems(s: DatabaseRuleSettings): SettingProblem[] {
  const problems: SettingProblem[] = [];
  const production = s.environment === "production";
  const minimum = MIN_BACKUP_RETENTION_DAYS[s.environment];
  if (s.backupRetentionDays < minimum) {
    problems.push({ key: "backupRetentionDays", got: s.backupRetentionDays, expected: `at least ${minimum} days in ${s.environment} (automated backups are what keep PITR on)` });
  }
  if (s.maxAllocatedStorageGb < s.allocatedStorageGb) {
    problems.push({ key: "maxAllocatedStorageGb", got: s.maxAllocatedStorageGb, expected: `at least allocatedStorageGb (${s.allocatedStorageGb})` });
  }
  if (production && !s.multiAz) problems.push({ key: "multiAz", got: s.multiAz, expected: "true in production (a standby in another zone)" });
  if (production && !s.deletionProtection) {
    problems.push({ key: "deletionProtection", got: s.deletionProtection, expected: "true in production (the runbook's data must not be one command away from deletion)" });
  }
  return problems;
}

/** The backup rule config.ts and validateDatabaseArgs share: cross-region copies (`copyTo`) in production only. */
export function backupCopyProblems(environment: Environment, copyTo: unknown): SettingProblem[] {
  if (environment === "production" || copyTo === undefined) return [];
  return [{ key: "copyTo", got: copyTo, expected: "unset outside production (cross-region copies are a production safeguard)" }];
}

/**
 * Throws a fixable message for args RDS or AWS Backup would refuse, or that drop a runbook
 * safeguard: the forms config.ts's schema checks for a stack file, then the shared rules
 * (databaseProblems).
 */
export function validateDatabaseArgs(args: DatabaseArgs): void {
  const { stack } = args;
  const version = args.engineVersion ?? "16";
  if (!/^1[3-7]$/.test(version)) {
    throw new Error(`Database: engineVersion "${version}" is not a PostgreSQL major version from 13 to 17; give the major only (such as "16").`);
  }
  if (!Number.isInteger(args.backupRetentionDays) || args.backupRetentionDays > MAX_BACKUP_RETENTION_DAYS) {
    throw new Error(`Database: backupRetentionDays is ${args.backupRetentionDays}; RDS keeps automated backups a whole number of days, at most ${MAX_BACKUP_RETENTION_DAYS}.`);
  }
  const insights = args.performanceInsightsRetentionDays;
  if (!(insights === 7 || (Number.isInteger(insights) && insights % 31 === 0 && insights > 0 && insights <= 731))) {
    throw new Error(`Database: performanceInsightsRetentionDays is ${insights}; use 7, or a multiple of 31 up to 731 (such as 31 or 93).`);
  }
  if (stack.environment === "production" && args.skipFinalSnapshot) {
    throw new Error("Database: production keeps a final snapshot; remove skipFinalSnapshot.");
  }
  for (const [setting, days] of [["backup.retentionDays", args.backup.retentionDays], ["backup.copyTo.retentionDays", args.backup.copyTo?.retentionDays]] as const) {
    if (days !== undefined && (!Number.isInteger(days) || days < 1)) {
      throw new Error(`Database: ${setting} is ${days}; AWS Backup keeps a recovery point a whole number of days, at least 1.`);
    }
  }
  if (!/^cron\(.+\)$/.test(args.backup.schedule)) {
    throw new Error(`Database: backup.schedule "${args.backup.schedule}" is not an AWS cron expression such as "cron(0 3 * * ? *)".`);
  }
  assertNoProblems("Database", [
    ...databaseProblems({ environment: stack.environment, ...args }),
    ...backupCopyProblems(stack.environment, args.backup.copyTo).map((p) => ({ ...p, key: `backup.${p.key}` })),
  ]);
}

/**
 * RDS PostgreSQL in private subnets, encrypted with its own KMS key, with automated backups (PITR)
 * and an AWS Backup plan for the runbook's "automated daily PostgreSQL snapshots".
 */
export class Database extends pulumi.ComponentResource {
  public readonly identifier: pulumi.Output<string>;
  public readonly arn: pulumi.Output<string>;
  /** DNS name of the instance (private). */
  public readonly address: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  /** `db-...` id used in IAM `rds-db:connect` ARNs and CloudWatch dimensions. */
  public readonly resourceId: pulumi.Output<string>;
  public readonly databaseName: pulumi.Output<string>;
  /** Secrets Manager secret holding the master credentials (managed and rotated by RDS). */
  public readonly masterUserSecretArn: pulumi.Output<string>;
  /** Customer-managed key for storage, snapshots, Performance Insights and the master secret. */
  public readonly kmsKeyArn: pulumi.Output<string>;
  public readonly subnetGroupName: pulumi.Output<string>;
  public readonly securityGroupId: pulumi.Output<string>;
  /** max_connections as set in the parameter group (the saturation alarm's denominator). */
  public readonly maxConnections: pulumi.Output<number>;
  /** Database role the application uses with IAM authentication. */
  public readonly iamUsername: pulumi.Output<string>;
  /** Resource ARN to grant `rds-db:connect` on (the application's IAM role). */
  public readonly iamConnectArn: pulumi.Output<string>;
  /** `postgresql://<iamUsername>@<address>:<port>/<db>?sslmode=verify-full` (secret); the password is an IAM auth token. */
  public readonly connectionString: pulumi.Output<string>;
  public readonly backupVaultName: pulumi.Output<string>;
  /** ARN of the daily backup vault (restore testing selects its recovery points). */
  public readonly backupVaultArn: pulumi.Output<string>;
  public readonly backupPlanId: pulumi.Output<string>;
  /** Cross-region copy vault, when `backup.copyTo` is set. */
  public readonly copyVaultArn: pulumi.Output<string | undefined>;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook-platform:data:Database", name, {}, opts);
    validateDatabaseArgs(args);
    const { stack, tags, backup: backupArgs, transform } = args;
    const engineVersion = args.engineVersion ?? "16";
    const iamUsername = args.iamUsername ?? "app_iam";
    const skipFinalSnapshot = args.skipFinalSnapshot ?? false;

    const key = new kms.Key(
      `${name}-key`,
      {
        description: `runbook-platform ${stack.name} PostgreSQL: storage, snapshots, Performance Insights, master secret`,
        enableKeyRotation: true,
        deletionWindowInDays: KMS_DELETION_WINDOW_DAYS,
        tags,
      },
      stateful(stack, "key", this),
    );

    const subnetGroup = new rds.SubnetGroup(
      `${name}-subnets`,
      {
        name: physicalName(stack, "postgres", "rds"),
        description: "Private subnets of the runbook PostgreSQL instance",
        subnetIds: args.subnetIds,
        tags,
      },
      named(this),
    );

    const family = parameterGroupFamily(engineVersion);
    const parameterGroup = new rds.ParameterGroup(
      `${name}-params`,
      {
        // The family is in the name: a major upgrade creates the new group before deleting the old.
        name: physicalName(stack, family, "rds"),
        family,
        description: "Forces TLS and logs slow statements",
        parameters: [
          { name: "rds.force_ssl", value: "1" },
          { name: "log_min_duration_statement", value: String(args.slowStatementMs) },
          // Static parameter: RDS refuses "immediate" and applies it at the next reboot.
          { name: "max_connections", value: String(args.maxConnections), applyMethod: "pending-reboot" },
        ],
        tags,
      },
      named(this),
    );

    const instanceArgs: rds.InstanceArgs = {
      identifier: physicalName(stack, "postgres", "rds"),
      engine: "postgres",
      engineVersion,
      instanceClass: args.instanceClass,
      allocatedStorage: args.allocatedStorageGb,
      maxAllocatedStorage: args.maxAllocatedStorageGb,
      storageType: "gp3",
      storageEncrypted: true,
      kmsKeyId: key.arn,
      dbName: args.databaseName,
      username: args.masterUsername,
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: key.arn,
      iamDatabaseAuthenticationEnabled: true,
      port: POSTGRES_PORT,
      publiclyAccessible: false,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [args.securityGroupId],
      parameterGroupName: parameterGroup.name,
      multiAz: args.multiAz,
      // "Keep PITR enabled": automated backups are what PITR restores from.
      backupRetentionPeriod: args.backupRetentionDays,
      copyTagsToSnapshot: true,
      deleteAutomatedBackups: false,
      deletionProtection: args.deletionProtection,
      skipFinalSnapshot,
      finalSnapshotIdentifier: skipFinalSnapshot ? undefined : physicalName(stack, "postgres-final", "rds"),
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: key.arn,
      performanceInsightsRetentionPeriod: args.performanceInsightsRetentionDays,
      enabledCloudwatchLogsExports: [...POSTGRES_LOG_EXPORTS],
      autoMinorVersionUpgrade: true,
      tags,
    };
    const instance = new rds.Instance(
      `${name}-instance`,
      transform?.instance ? transform.instance(instanceArgs) : instanceArgs,
      // RDS grows the disk itself up to maxAllocatedStorage; an `up` after a refresh must not shrink it back.
      stateful(stack, "database", this, { deleteBeforeReplace: true, ignoreChanges: autoscalingIgnoredChanges(args) }),
    );

    const { vault, plan, copyVault } = databaseBackup(name, this, {
      stack,
      keyArn: key.arn,
      instanceArn: instance.arn,
      pitrRetentionDays: args.backupRetentionDays,
      backup: backupArgs,
      tags,
    });

    this.identifier = instance.identifier;
    this.arn = instance.arn;
    this.address = instance.address;
    this.port = instance.port;
    this.resourceId = instance.resourceId;
    this.databaseName = pulumi.output(args.databaseName);
    this.masterUserSecretArn = instance.masterUserSecrets.apply((secrets) => {
      const secret = secrets[0];
      if (!secret) throw new Error("Database: RDS returned no master user secret; manageMasterUserPassword must stay on.");
      return secret.secretArn;
    });
    this.kmsKeyArn = key.arn;
    this.subnetGroupName = subnetGroup.name;
    this.securityGroupId = pulumi.output(args.securityGroupId);
    this.maxConnections = pulumi.output(args.maxConnections);
    this.iamUsername = pulumi.output(iamUsername);
    this.iamConnectArn = rdsDbConnectArn(instance.arn, instance.resourceId, iamUsername);
    this.connectionString = pulumi.secret(
      pulumi.interpolate`postgresql://${iamUsername}@${instance.address}:${instance.port}/${args.databaseName}?sslmode=verify-full`,
    );
    this.backupVaultName = vault.name;
    this.backupVaultArn = vault.arn;
    this.backupPlanId = plan.id;
    this.copyVaultArn = copyVault ? copyVault.arn : pulumi.output(undefined);

    this.registerOutputs({
      identifier: this.identifier,
      arn: this.arn,
      address: this.address,
      port: this.port,
      resourceId: this.resourceId,
      databaseName: this.databaseName,
      masterUserSecretArn: this.masterUserSecretArn,
      kmsKeyArn: this.kmsKeyArn,
      subnetGroupName: this.subnetGroupName,
      securityGroupId: this.securityGroupId,
      maxConnections: this.maxConnections,
      iamUsername: this.iamUsername,
      iamConnectArn: this.iamConnectArn,
      connectionString: this.connectionString,
      backupVaultName: this.backupVaultName,
      backupVaultArn: this.backupVaultArn,
      backupPlanId: this.backupPlanId,
      copyVaultArn: this.copyVaultArn,
    });
  }
}

/**
 * With storage autoscaling on (`maxAllocatedStorageGb` above `allocatedStorageGb`), RDS raises
 * `allocatedStorage` on its own and never lowers it; Pulumi must not try to set it back.
 */
function autoscalingIgnoredChanges(args: Pick<DatabaseArgs, "allocatedStorageGb" | "maxAllocatedStorageGb">): string[] {
  return args.maxAllocatedStorageGb > args.allocatedStorageGb ? ["allocatedStorage"] : [];
}

/** `arn:aws:rds-db:<region>:<account>:dbuser:<resourceId>/<user>`, from the instance's own ARN. */
function rdsDbConnectArn(instanceArn: pulumi.Output<string>, resourceId: pulumi.Output<string>, user: string): pulumi.Output<string> {
  return pulumi.all([instanceArn, resourceId]).apply(([arn, id]) => {
    const [, partition, , region, account] = arn.split(":");
    return `arn:${partition}:rds-db:${region}:${account}:dbuser:${id}/${user}`;
  });
}
