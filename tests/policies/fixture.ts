import { RUNBOOK_ALARMS } from "../../runbook";
import { evaluatePolicies, type PackConfig, type PolicyFinding, type PolicyInputResource } from "../../policies/evaluate";
import type { RunbookPolicy } from "../../policies/lib/policy";

/**
 * One happy-path plan that every policy passes. Each policy test copies it, changes one property
 * and asserts the exact violation (pulumi-policy-aws's src/tests/util.ts style).
 */

const urn = (type: string, name: string) => `urn:pulumi:production::runbook-platform::${type}::${name}`;

function resource(type: string, name: string, inputs: Record<string, unknown>, extra: Partial<PolicyInputResource> = {}): PolicyInputResource {
  return { type, name, urn: urn(type, name), inputs, secretPaths: [], propertyDependencies: {}, ...extra };
}

const T = {
  instance: "aws:rds/instance:Instance",
  plan: "aws:backup/plan:Plan",
  selection: "aws:backup/selection:Selection",
  bucket: "aws:s3/bucket:Bucket",
  publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  parameterGroup: "aws:elasticache/parameterGroup:ParameterGroup",
  replicationGroup: "aws:elasticache/replicationGroup:ReplicationGroup",
  distribution: "aws:cloudfront/distribution:Distribution",
  topic: "aws:sns/topic:Topic",
  metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  deployment: "kubernetes:apps/v1:Deployment",
  branchProtection: "github:index/branchProtection:BranchProtection",
  githubProvider: "pulumi:providers:github",
  vpc: "aws:ec2/vpc:Vpc",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  eksCluster: "aws:eks/cluster:Cluster",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
} as const;

const DB_ARN = "arn:aws:rds:eu-west-1:123456789012:db:runbook-production-postgres";
const topicArn = (route: string) => `arn:aws:sns:eu-west-1:123456789012:runbook-production-${route}`;
const DIGEST = `sha256:${"a".repeat(64)}`;

function alarms(): PolicyInputResource[] {
  return RUNBOOK_ALARMS.map((row) => {
    const band = row.comparison === "GreaterThanUpperThreshold";
    return resource(
      T.metricAlarm,
      `alarms-${row.key}`,
      {
        alarmDescription: `Runbook "Alerts and on-call thresholds": "${row.runbookLine}" -> ${row.route}.`,
        comparisonOperator: row.comparison,
        evaluationPeriods: row.evaluationPeriods,
        datapointsToAlarm: row.datapointsToAlarm,
        ...(band
          ? {
              thresholdMetricId: "band",
              metricQueries: [
                { id: "m", returnData: true, metric: { metricName: "InvalidSignatures", namespace: "runbook", period: row.periodSeconds, stat: row.statistic } },
                { id: "band", returnData: true, expression: `ANOMALY_DETECTION_BAND(m, ${row.threshold})` },
              ],
            }
          : { threshold: row.threshold }),
        alarmActions: [topicArn(row.route)],
      },
      { propertyDependencies: { alarmActions: [urn(T.topic, `alarms-${row.route}`)] } },
    );
  });
}

function container(name: string) {
  return {
    name,
    image: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/runbook-api@${DIGEST}`,
    readinessProbe: { httpGet: { path: "/health/ready", port: 3000 } },
    livenessProbe: { httpGet: { path: "/health/live", port: 3000 } },
    resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
  };
}

/** A fresh copy of the happy-path plan. */
export function fixture(): PolicyInputResource[] {
  const bucketUrn = urn(T.bucket, "storage-bucket");
  return [
    resource(T.instance, "database-instance", {
      identifier: "runbook-production-postgres",
      backupRetentionPeriod: 14,
      storageEncrypted: true,
      publiclyAccessible: false,
      deletionProtection: true,
      manageMasterUserPassword: true,
    }, { options: { protect: true } }),
    resource(T.plan, "database-backup-plan", { name: "runbook-production-postgres", rules: [{ ruleName: "daily-snapshot", schedule: "cron(0 3 * * ? *)" }] }),
    resource(
      T.selection,
      "database-backup-selection",
      { planId: "plan-0123", resources: [DB_ARN] },
      { propertyDependencies: { planId: [urn(T.plan, "database-backup-plan")], resources: [urn(T.instance, "database-instance")] } },
    ),
    resource(T.bucket, "storage-bucket", { bucketPrefix: "runbook-production-uploads-" }, { options: { protect: true } }),
    resource(
      T.publicAccessBlock,
      "storage-public-access-block",
      { bucket: "runbook-production-uploads-1234", blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      { propertyDependencies: { bucket: [bucketUrn] } },
    ),
    resource(
      T.encryption,
      "storage-encryption",
      { bucket: "runbook-production-uploads-1234", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }] },
      { propertyDependencies: { bucket: [bucketUrn] } },
    ),
    resource(
      T.bucketPolicy,
      "storage-policy",
      {
        bucket: "runbook-production-uploads-1234",
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], Condition: { Bool: { "aws:SecureTransport": "false" } } }],
        }),
      },
      { propertyDependencies: { bucket: [bucketUrn] } },
    ),
    resource(T.parameterGroup, "cache-parameters", { name: "runbook-production-valkey8", family: "valkey8", parameters: [{ name: "maxmemory-policy", value: "noeviction" }] }),
    resource(
      T.replicationGroup,
      "cache-group",
      {
        transitEncryptionEnabled: true,
        transitEncryptionMode: "required",
        atRestEncryptionEnabled: true,
        authToken: "mock-auth-token-0123456789abcdef",
        parameterGroupName: "runbook-production-valkey8",
      },
      { secretPaths: ["authToken"], propertyDependencies: { parameterGroupName: [urn(T.parameterGroup, "cache-parameters")] }, options: { protect: true } },
    ),
    resource(T.distribution, "frontend-cdn", {
      origins: [{ originId: "site", domainName: "runbook-production-site.s3.eu-west-1.amazonaws.com", originAccessControlId: "E2OAC0123" }],
      defaultCacheBehavior: { targetOriginId: "site", viewerProtocolPolicy: "redirect-to-https" },
      orderedCacheBehaviors: [{ pathPattern: "/assets/*", targetOriginId: "site", viewerProtocolPolicy: "https-only" }],
    }),
    resource(T.topic, "alarms-page", { name: "runbook-production-page" }),
    resource(T.topic, "alarms-ticket", { name: "runbook-production-ticket" }),
    ...alarms(),
    resource(T.vpc, "cluster-vpc", { cidrBlock: "10.50.0.0/16" }),
    resource(
      T.securityGroup,
      "network-database",
      { vpcId: "vpc-0123456789abcdef0", egress: [], ingress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, securityGroups: ["sg-0cluster0123456789"] }] },
      { propertyDependencies: { vpcId: [urn(T.vpc, "cluster-vpc")] } },
    ),
    resource(T.eksCluster, "cluster-eks", {
      vpcConfig: { endpointPrivateAccess: true, endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] },
      encryptionConfig: { provider: { keyArn: "arn:aws:kms:eu-west-1:123456789012:key/1111" }, resources: ["secrets"] },
    }),
    resource(T.networkPolicy, "services-default-deny", { metadata: { name: "default-deny", namespace: "runbook" }, spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } }),
    resource(T.deployment, "services-api", {
      metadata: { name: "api", namespace: "runbook" },
      spec: { template: { spec: { securityContext: { runAsNonRoot: true, runAsUser: 1000 }, containers: [container("api")] } } },
    }),
    resource(T.githubProvider, "repository-github", { owner: "acme", token: "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB" }, { secretPaths: ["token"] }),
    resource(T.branchProtection, "repository-main", {
      repositoryId: "runbook-app",
      pattern: "main",
      enforceAdmins: true,
      requiredStatusChecks: [{ strict: true, contexts: ["ci", "policy-preview"] }],
      requiredPullRequestReviews: [{ requiredApprovingReviewCount: 2, dismissStaleReviews: true, requireCodeOwnerReviews: true, requireLastPushApproval: true }],
    }),
  ];
}

/** The resource of a fixture by logical name (throws when absent, so a typo cannot pass). */
export function named(plan: readonly PolicyInputResource[], name: string): PolicyInputResource {
  const found = plan.find((r) => r.name === name);
  if (!found) throw new Error(`no ${name} in the fixture`);
  return found;
}

/** Runs one policy over a plan. */
export function run(policy: RunbookPolicy, plan: readonly PolicyInputResource[], stack = "production", config?: PackConfig): Promise<PolicyFinding[]> {
  return evaluatePolicies(plan, { stack, policies: [policy], config });
}

/** The finding a mandatory policy reports. */
export function violation(policy: RunbookPolicy, resource: string, message: string): PolicyFinding {
  return { policy: policy.name, resource, level: "mandatory", message };
}
