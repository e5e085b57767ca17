import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { IMAGE_BY_DIGEST } from "../ops/promotion/artifact";
import { ENVIRONMENTS, MAX_BACKUP_RETENTION_DAYS, REPLAY_SAFE_MAXMEMORY_POLICIES } from "../runbook";

/**
 * The form of every project setting of a stack file, section by section (zod). The messages double
 * as each key's description in the README's generated config table (`npm run config:table`).
 * Rules that relate keys to each other or to the environment are in rules.ts.
 */

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const AWS_REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const IMAGE_REPOSITORY = /^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+$/;
const K8S_QUANTITY_CPU = /^\d+(\.\d+)?m?$/;
const K8S_QUANTITY_MEMORY = /^\d+(Ki|Mi|Gi)$/;
/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/**
 * A string of a given form; a missing or non-string value gets the same message as a malformed one.
 * The message doubles as the key's description in the README's generated config table.
 */
const pattern = (form: RegExp, expected: string) => z.string(expected).regex(form, expected).describe(expected);
const arn = (service: string, resource: RegExp, what: string) =>
  pattern(
    new RegExp(`^arn:aws[a-z-]*:${service}:[a-z0-9-]*:(\\d{12})?:${resource.source}$`),
    `${what} (arn:aws:${service}:...)`,
  );
const int = (min: number, max: number, what = "a whole number") => {
  const expected = `${what} from ${min} to ${max}`;
  return z.number(expected).int(expected).min(min, expected).max(max, expected).describe(expected);
};
const bool = () => z.boolean("true or false").describe("true or false");
const cidr = () => {
  const expected = "an IPv4 CIDR such as 10.40.0.0/16";
  return z.cidrv4(expected).describe(expected);
};
const email = () => z.email("an email address such as oncall@example.com").describe("an email address");
/** zod's hostname format (labels of letters, digits and inner dashes), lower-case, with a top-level domain. */
const hostname = () => {
  const expected = "a lower-case DNS name such as app.example.com";
  return z.hostname(expected).regex(/^[a-z0-9.-]+\.[a-z]{2,63}$/, expected).describe(expected);
};
const cpu = () => pattern(K8S_QUANTITY_CPU, 'a CPU quantity such as "250m" or "1"');
const memory = () => pattern(K8S_QUANTITY_MEMORY, 'a memory quantity such as "256Mi"');

const resources = z.strictObject({
  cpuRequest: cpu(),
  memoryRequest: memory(),
  cpuLimit: cpu(),
  memoryLimit: memory(),
});

const subnetId = () => pattern(/^subnet-[0-9a-f]{8,17}$/, "a subnet id such as subnet-0abc1234");
const iamRoleArn = (what: string) => arn("iam", /role\/.+/, what);

/**
 * Where the cluster comes from. `create`: a new VPC and EKS cluster (the keys marked "create only");
 * `existing`: an EKS cluster looked up by `name`, its VPC, subnets, security group and OIDC provider
 * read from AWS before anything is registered.
 */
const cluster = z.strictObject({
  mode: z.enum(["create", "existing"], '"create" (a new VPC and EKS cluster) or "existing" (an EKS cluster looked up by name)'),
  name: pattern(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, "an EKS cluster name (existing: required; create: default <namePrefix>-<stack>-eks)").optional(),
  version: pattern(/^1\.(2[89]|3\d)$/, 'create only: an EKS Kubernetes version such as "1.33"').optional(),
  publicAccessCidrs: z.array(cidr()).describe("create only: CIDRs allowed to the public API endpoint; [] keeps the endpoint private").optional(),
  nodeGroup: z
    .strictObject({
      instanceTypes: z.array(pattern(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "an EC2 instance type such as m7g.large")).min(1, "at least one instance type"),
      minSize: int(1, 100, "nodes"),
      desiredSize: int(1, 100, "nodes"),
      maxSize: int(1, 100, "nodes"),
    })
    .optional(),
  adminRoleArns: z.array(iamRoleArn("an IAM role given cluster-admin access (create only)")).default([]),
  addons: z.strictObject({
    loadBalancerController: bool(),
    metricsServer: bool(),
  }),
});

/** The VPC a `create` cluster gets, or the data-tier subnets of an `existing` cluster's VPC. */
const network = z
  .strictObject({
    vpcCidr: cidr().describe("create only: the new VPC's range, a /16 such as 10.40.0.0/16").optional(),
    availabilityZoneCount: int(2, 3, "create only: a number of availability zones").optional(),
    reservedCidrs: z.array(cidr()).describe("create only: networks the new VPC must not overlap (peered VPCs, VPN, the other stack)").default([]),
    dataSubnetIds: z
      .array(subnetId())
      .min(2, "at least two subnets in different availability zones")
      .describe("existing only: the data tier's subnets; default: the VPC's subnets tagged kubernetes.io/role/internal-elb")
      .optional(),
  })
  .prefault({});

/**
 * Keys that no longer apply, with the key that replaces each: reported instead of a bare "no such
 * key", so an old stack file says what to change.
 */
export const RETIRED_KEYS: Readonly<Record<string, string>> = {
  "network.clusterNodeCidrs": "removed: PostgreSQL and Redis admit the cluster's security group by reference (from the cluster section); delete this key",
  "network.appSecurityGroupIds": "removed: PostgreSQL and Redis admit the cluster's security group by reference (from the cluster section); delete this key",
  "network.existing": "removed: set cluster.mode existing and cluster.name; the VPC is the cluster's, and network.dataSubnetIds (optional) picks the data-tier subnets",
  "services.irsa": "removed (oidcProviderArn, oidcIssuer): IRSA trusts the OIDC provider read from the cluster (cluster section); delete this key",
  "services.kubeContext": "removed: the Kubernetes provider is built from the cluster (aws eks get-token); the secret kubeconfig overrides it",
};

const database = z.strictObject({
  engineVersion: pattern(/^1[3-7]$/, 'a PostgreSQL major version from "13" to "17"'),
  instanceClass: pattern(
      /^db\.(t3|t4g|m5|m6g|m6i|m7g|m7i|r5|r6g|r6i|r7g|r7i)\.(micro|small|medium|large|\d*xlarge)$/,
      "an RDS instance class such as db.t4g.medium or db.r6g.large",
    ),
  allocatedStorageGb: int(20, 65536, "gigabytes"),
  maxAllocatedStorageGb: int(20, 65536, "gigabytes"),
  backupRetentionDays: int(1, MAX_BACKUP_RETENTION_DAYS, "days"),
  multiAz: bool(),
  deletionProtection: bool(),
  performanceInsightsRetentionDays: int(7, 731, "days").refine(
    (days) => days === 7 || days % 31 === 0,
    "7, or a multiple of 31 up to 731 (the retention periods Performance Insights accepts)",
  ),
  maxConnections: int(20, 5000, "connections"),
  slowStatementMs: int(100, 60000, "milliseconds"),
  databaseName: pattern(/^[a-z][a-z0-9_]{0,62}$/, "a lower-case PostgreSQL identifier"),
  masterUsername: pattern(/^[a-z][a-z0-9_]{0,15}$/, "a lower-case user name of at most 16 characters"),
});

const backup = z.strictObject({
  schedule: pattern(/^cron\(\d{1,2} \d{1,2} \* \* \? \*\)$/, 'a daily AWS cron expression such as "cron(0 3 * * ? *)"'),
  retentionDays: int(7, 3650, "days"),
  continuousBackup: bool(),
  copyTo: z
    .strictObject({
      region: pattern(AWS_REGION, "an AWS region such as eu-central-1"),
      retentionDays: int(7, 3650, "days"),
    })
    .optional(),
});

const storage = z.strictObject({
  noncurrentVersionDays: int(1, 3650, "days"),
  abortIncompleteUploadDays: int(1, 30, "days"),
});

const cache = z.strictObject({
  engine: z.enum(["valkey", "redis"], 'either "valkey" or "redis"'),
  engineVersion: pattern(/^[678]\.\d$/, 'a major.minor version such as "7.1" or "8.0"'),
  nodeType: pattern(/^cache\.(t3|t4g|m6g|m7g|r6g|r7g)\.(micro|small|medium|large|\d*xlarge)$/, "a node type such as cache.t4g.small"),
  nodeCount: int(1, 6, "a number of nodes"),
  snapshotRetentionDays: int(0, 35, "days"),
  maxmemoryPolicy: z.enum(
    REPLAY_SAFE_MAXMEMORY_POLICIES,
    `${REPLAY_SAFE_MAXMEMORY_POLICIES.map((p) => `"${p}"`).join(" or ")}: replay-protection and rate-limit keys are never evicted (every one has a TTL, so volatile-* policies evict exactly them)`,
  ),
});

const frontend = z.strictObject({
  domain: hostname().optional(),
  certificateArn: arn("acm", /certificate\/[0-9a-f-]{36}/, "an ACM certificate ARN in us-east-1").optional(),
  priceClass: z.enum(["PriceClass_100", "PriceClass_200", "PriceClass_All"], "PriceClass_100, PriceClass_200 or PriceClass_All"),
  contentSecurityPolicy: z
    .string()
    .min(10, "a Content-Security-Policy header value")
    .regex(/(^|;)\s*frame-ancestors\s/, "a Content-Security-Policy with a frame-ancestors directive (such as frame-ancestors 'none'): it is the clickjacking guard"),
  webAclArn: arn("wafv2", /global\/webacl\/.+/, "a global WAFv2 web ACL ARN").optional(),
  accessLogRetentionDays: int(1, 3650, "days"),
});

const services = z.strictObject({
  namespace: pattern(DNS_LABEL, "a Kubernetes namespace name (lower-case DNS label)"),
  port: int(1024, 65535, "a port"),
  apiReplicas: int(1, 50, "replicas"),
  apiMaxReplicas: int(1, 100, "replicas"),
  workerReplicas: int(0, 20, "replicas"),
  apiResources: resources,
  workerResources: resources,
  ingress: z.strictObject({
    host: hostname(),
    certificateArn: arn("acm", /certificate\/[0-9a-f-]{36}/, "an ACM certificate ARN in the stack's region").optional(),
  }),
});

const image = z.strictObject({
  repository: pattern(IMAGE_REPOSITORY, "an image repository without tag, such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com/runbook-api"),
  ref: pattern(IMAGE_BY_DIGEST, "an image pinned by digest, such as <repository>@sha256:<64 hex digits> (a tag is not an artifact)")
    .optional(),
  verifiedBy: pattern(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "the stack whose smoke checks must have passed with image.ref, such as acme/runbook-platform/staging").optional(),
  rollback: bool().optional(),
  smokeRecords: bool().optional(),
});

const alarms = z.strictObject({
  pageEmails: z.array(email()).default([]),
  ticketEmails: z.array(email()).min(1, "at least one address for high-priority tickets"),
  logRetentionDays: z.union(
    LOG_RETENTION_DAYS.map((d) => z.literal(d)),
    `one of CloudWatch's retention periods: ${LOG_RETENTION_DAYS.join(", ")}`,
  ),
});

/** With a zone, the program issues the certificates and writes the records of every hostname (components/dns.ts). */
const dns = z
  .strictObject({
    zone: hostname().describe("a public Route 53 hosted zone such as example.com; unset: certificates from config, records by hand").optional(),
  })
  .default({});

const drill = z.strictObject({
  enabled: bool(),
  mode: z.enum(["snapshot", "pitr"], '"snapshot" (latest automated snapshot) or "pitr" (latest restorable time)'),
  rtoTargetSeconds: int(60, 86400, "seconds"),
  expectedTables: z.array(pattern(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/, "a table name")).min(1, "at least one table"),
  rowCountTolerancePercent: int(0, 100, "percent"),
  recordRetentionDays: int(30, 3650, "days"),
});

const repository = z.strictObject({
  manageBranchProtection: bool(),
  fullName: pattern(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "owner/repo"),
  requiredApprovals: int(1, 6, "approving reviews"),
  requiredChecks: z.array(z.string().min(1).describe("a status check name")).min(1, "at least one required status check"),
});

/** A five-field UTC cron expression, as Pulumi Deployments schedules take it. */
const CRON_5 = /^(\S+ ){4}\S+$/;

const delivery = z.strictObject({
  enabled: bool(),
  deployOnPush: bool(),
  previewPullRequests: bool(),
  paths: z.array(z.string().min(1)).min(1, "at least one path filter, such as components/**"),
  driftCron: z.string().regex(CRON_5, 'a five-field UTC cron expression such as "0 */4 * * *"'),
  weeklyDrillUpdate: bool().optional(),
  awsRoleArn: arn("iam", /role\/.+/, "the IAM role Pulumi Deployments assumes by OIDC").optional(),
});

/** Pulumi's stack names: letters, digits, `-`, `_` and `.` (dev, staging-eu, prod). */
export const STACK_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** Every project setting of a stack file, section by section. */
export const configSchema = z.strictObject({
  organization: pattern(/^[A-Za-z0-9_.-]{1,100}$/, "your Pulumi organization name (letters, digits, -, _ and ., at most 100)"),
  cluster,
  environment: z
    .enum(ENVIRONMENTS, `"staging" or "production": the environment whose rules, defaults and policies this stack follows`)
    .describe("`staging` or `production`: the rules, defaults and policies this stack follows, whatever its name"),
  namePrefix: pattern(/^[a-z][a-z0-9-]{0,18}[a-z0-9]$/, "a lower-case prefix of 2 to 20 letters, digits and dashes, such as acme")
    .default("runbook")
    .describe("the first part of every physical name (`<namePrefix>-<stack>-<role>`), log group and metric namespace"),
  appName: pattern(DNS_LABEL, "your application's name, a lower-case DNS label such as acme-app")
    .default("runbook-app")
    .describe("your application's name: its Kubernetes service account and IRSA trust, a lower-case DNS label"),
  network,
  database,
  backup,
  storage,
  cache,
  frontend,
  services,
  image,
  alarms,
  dns,
  drill,
  repository,
  delivery,
});

/** The parsed settings of a stack file (defaults applied). */
export type Settings = z.infer<typeof configSchema>;

/** The validated, typed settings of one stack. Secrets stay `Output`s. */
export type PlatformConfig = Settings & {
  /** The Pulumi stack's name (dev, staging-eu, prod, ...); `environment` says which rules it follows. */
  stack: string;
  region: string;
  /** Kubeconfig for the target cluster (secret): overrides the one built from the cluster (aws eks get-token). */
  kubeconfig?: pulumi.Output<string>;
  /** GitHub token (secret); the GITHUB_TOKEN environment variable is used when unset. */
  githubToken?: pulumi.Output<string>;
  /** On-call HTTPS endpoint such as a PagerDuty integration URL (secret: it carries a key). */
  pageHttpsEndpoint?: pulumi.Output<string>;
};

type RawConfig = z.input<typeof configSchema>;
/** The top-level sections of a stack file's project settings. */
export const SECTIONS = Object.keys(configSchema.shape) as (keyof RawConfig)[];
/** Settings that are only ever set with `pulumi config set --secret`. */
export const SECRET_KEYS = ["kubeconfig", "githubToken", "pageHttpsEndpoint"] as const;

