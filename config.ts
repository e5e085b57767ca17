import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { cidrsOverlap } from "./components/cluster/layout";
import { replicaProblems } from "./components/services/workloads";
import {
  ENVIRONMENTS,
  MAX_BACKUP_RETENTION_DAYS,
  MIN_BACKUP_RETENTION_DAYS,
  PROJECT,
  REPLAY_SAFE_MAXMEMORY_POLICIES,
} from "./runbook";
import { IMAGE_BY_DIGEST } from "./ops/promotion/artifact";

/**
 * The only reader of `pulumi.Config`. Every setting is validated here, before index.ts registers a
 * single resource; a bad stack file fails with one error that lists every bad key.
 */

export { PROJECT };

const CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const AWS_REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const IMAGE_REPOSITORY = /^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+$/;
const K8S_QUANTITY_CPU = /^\d+(\.\d+)?m?$/;
const K8S_QUANTITY_MEMORY = /^\d+(Ki|Mi|Gi)$/;
/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [
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
const cidr = () => pattern(CIDR, "an IPv4 CIDR such as 10.40.0.0/16");
const email = () => z.email("an email address such as oncall@example.com").describe("an email address");
const hostname = () => pattern(HOSTNAME, "a lower-case DNS name such as app.example.com");
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
  name: pattern(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, "an EKS cluster name (existing: required; create: default runbook-<stack>-eks)").optional(),
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
const STACK_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** Every project setting of a stack file, section by section. */
export const configSchema = z.strictObject({
  organization: pattern(/^[A-Za-z0-9_.-]+$/, "your Pulumi organization name"),
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

type Settings = z.infer<typeof configSchema>;

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

export type RawConfig = z.input<typeof configSchema>;
const SECTIONS = Object.keys(configSchema.shape) as (keyof RawConfig)[];
/** Settings that are only ever set with `pulumi config set --secret`. */
export const SECRET_KEYS = ["kubeconfig", "githubToken", "pageHttpsEndpoint"] as const;

/**
 * Rules that relate keys to each other or to the stack. Each block reads one section (or one and the
 * top-level organization) and runs only when that section parsed, so a file with schema errors still
 * gets its per-stack problems in the same error: one `pulumi up` shows every key to fix.
 */
function crossChecks(c: Partial<Settings>): Problem[] {
  const problems: Problem[] = [];
  const { environment, database, cache, services, frontend, image, backup, dns } = c;
  // Without a valid environment the per-environment rules wait: the environment's own problem is reported.
  const production = environment === "production";
  if (database) {
    const minRetention = environment ? MIN_BACKUP_RETENTION_DAYS[environment] : 0;
    if (database.backupRetentionDays < minRetention) {
      problems.push({
        path: "database.backupRetentionDays",
        got: database.backupRetentionDays,
        expected: `at least ${minRetention} days in ${environment} (automated backups are what keep PITR on)`,
      });
    }
    if (database.maxAllocatedStorageGb < database.allocatedStorageGb) {
      problems.push({
        path: "database.maxAllocatedStorageGb",
        got: database.maxAllocatedStorageGb,
        expected: `at least database.allocatedStorageGb (${database.allocatedStorageGb})`,
      });
    }
    if (production) {
      for (const key of ["multiAz", "deletionProtection"] as const) {
        if (!database[key]) problems.push({ path: `database.${key}`, got: database[key], expected: "true in production" });
      }
    }
  }
  if (cache) {
    const cacheVersion = Number(cache.engineVersion);
    if (cache.engine === "valkey" ? cacheVersion < 7.2 : cacheVersion < 6.2 || cacheVersion >= 8) {
      problems.push({
        path: "cache.engineVersion",
        got: cache.engineVersion,
        expected: cache.engine === "valkey" ? 'a Valkey version ElastiCache offers ("7.2" or "8.0")' : 'a Redis OSS version ElastiCache offers ("6.2" to "7.1"), or cache.engine "valkey"',
      });
    }
    if (production && cache.nodeCount < 2) {
      problems.push({ path: "cache.nodeCount", got: cache.nodeCount, expected: "at least 2 in production (automatic failover and multi-AZ need a replica)" });
    }
  }
  if (services && environment) {
    for (const { key, got, expected } of replicaProblems({ environment, ...services })) problems.push({ path: `services.${key}`, got, expected });
  }
  problems.push(...dnsChecks(dns?.zone, frontend, services));
  if (frontend && !dns?.zone) {
    if (Boolean(frontend.domain) !== Boolean(frontend.certificateArn)) {
      problems.push({
        path: frontend.domain ? "frontend.certificateArn" : "frontend.domain",
        got: undefined,
        expected: "frontend.domain and frontend.certificateArn set together (a custom domain needs its us-east-1 certificate)",
      });
    }
    if (frontend.certificateArn && !frontend.certificateArn.includes(":us-east-1:")) {
      problems.push({
        path: "frontend.certificateArn",
        got: frontend.certificateArn,
        expected: "a certificate in us-east-1 (CloudFront only uses certificates from us-east-1)",
      });
    }
  }
  problems.push(...topologyChecks(c));
  if (image) {
    if (!image.ref) {
      problems.push({
        path: "image.ref",
        got: undefined,
        expected:
          environment === "staging"
            ? "the artifact staging runs, pinned by digest (<repository>@sha256:...): production promotes exactly this"
            : "the artifact this stack runs, pinned by digest (<repository>@sha256:...); npm run promote writes it",
      });
    }
    if (image.ref && !image.ref.startsWith(`${image.repository}@`)) {
      problems.push({ path: "image.ref", got: image.ref, expected: `an image from image.repository (${image.repository})` });
    }
    if (production && !image.verifiedBy && !image.rollback) {
      problems.push({
        path: "image.verifiedBy",
        got: undefined,
        expected: `the stack whose smoke checks must have passed with image.ref (such as ${c.organization ?? "<organization>"}/${PROJECT}/staging), or image.rollback: true for a deliberate rollback`,
      });
    }
    if (production && image.smokeRecords) {
      problems.push({ path: "image.smokeRecords", got: true, expected: "unset in production (staging keeps the smoke records production's preview checks)" });
    }
  }
  if (production && c.delivery?.weeklyDrillUpdate) {
    problems.push({
      path: "delivery.weeklyDrillUpdate",
      got: true,
      expected: "unset in production (a scheduled `pulumi up` would deploy whatever main holds; production's weekly drill is AWS Backup restore testing)",
    });
  }
  if (environment === "staging" && backup?.copyTo) {
    problems.push({ path: "backup.copyTo", got: backup.copyTo, expected: "unset outside production (cross-region copies are a production safeguard)" });
  }
  return problems;
}

/**
 * The cluster and network rules: what each cluster mode needs, what it leaves unset, and a new VPC
 * that fits its subnet layout and overlaps no configured network.
 */
function topologyChecks(c: Partial<Settings>): Problem[] {
  const { environment, cluster, network, delivery } = c;
  if (!cluster) return [];
  const problems: Problem[] = [];
  const unset = (path: string, got: unknown, why: string) => problems.push({ path, got, expected: `unset with cluster.mode ${cluster.mode} (${why})` });
  if (cluster.mode === "existing") {
    if (!cluster.name) problems.push({ path: "cluster.name", got: undefined, expected: "the name of the EKS cluster to look up (cluster.mode existing)" });
    for (const key of ["version", "publicAccessCidrs", "nodeGroup"] as const) {
      if (cluster[key] !== undefined) unset(`cluster.${key}`, cluster[key], "it configures a cluster this stack creates");
    }
    if (cluster.adminRoleArns.length > 0) unset("cluster.adminRoleArns", cluster.adminRoleArns, "access to an existing cluster is granted by its owners");
    if (network?.vpcCidr !== undefined) unset("network.vpcCidr", network.vpcCidr, "the VPC is the existing cluster's, looked up; network.dataSubnetIds picks its data-tier subnets");
    if (network?.availabilityZoneCount !== undefined) unset("network.availabilityZoneCount", network.availabilityZoneCount, "the zones are the existing VPC's");
    if (network && network.reservedCidrs.length > 0) unset("network.reservedCidrs", network.reservedCidrs, "they are checked only against a VPC this stack creates");
    return problems;
  }
  if (cluster.version === undefined) problems.push({ path: "cluster.version", got: undefined, expected: 'the new cluster\'s Kubernetes version, such as "1.33"' });
  if (cluster.publicAccessCidrs === undefined) {
    problems.push({ path: "cluster.publicAccessCidrs", got: undefined, expected: "the CIDRs allowed to the public API endpoint (your VPN's, your CI's), or [] for a private endpoint only" });
  } else {
    const open = cluster.publicAccessCidrs.find((range) => range.endsWith("/0"));
    if (open && environment === "production") {
      problems.push({ path: "cluster.publicAccessCidrs", got: open, expected: "ranges narrower than /0 in production (the API endpoint is never open to the world), or [] for a private endpoint only" });
    }
  }
  if (!cluster.nodeGroup) {
    problems.push({ path: "cluster.nodeGroup", got: undefined, expected: "the managed node group: { instanceTypes, minSize, desiredSize, maxSize }" });
  } else if (!(cluster.nodeGroup.minSize <= cluster.nodeGroup.desiredSize && cluster.nodeGroup.desiredSize <= cluster.nodeGroup.maxSize)) {
    problems.push({ path: "cluster.nodeGroup.desiredSize", got: cluster.nodeGroup.desiredSize, expected: `from cluster.nodeGroup.minSize (${cluster.nodeGroup.minSize}) to maxSize (${cluster.nodeGroup.maxSize})` });
  }
  if (delivery && !delivery.awsRoleArn && cluster.adminRoleArns.length === 0) {
    problems.push({ path: "cluster.adminRoleArns", got: [], expected: "at least one role, or delivery.awsRoleArn: a new cluster grants access only through EKS access entries" });
  }
  if (!network) return problems;
  if (network.dataSubnetIds !== undefined) unset("network.dataSubnetIds", network.dataSubnetIds, "the data tier gets the new VPC's isolated subnets");
  if (network.availabilityZoneCount === undefined) problems.push({ path: "network.availabilityZoneCount", got: undefined, expected: "2 or 3: the zones the new VPC spans" });
  if (network.vpcCidr === undefined) {
    problems.push({ path: "network.vpcCidr", got: undefined, expected: "the new VPC's range (cluster.mode create), a /16 such as 10.40.0.0/16" });
  } else if (Number(network.vpcCidr.split("/")[1]) > 16) {
    problems.push({ path: "network.vpcCidr", got: network.vpcCidr, expected: "a /16 or larger (private /18s, public and isolated /22s per zone)" });
  } else {
    const overlapping = network.reservedCidrs.find((range) => cidrsOverlap(range, network.vpcCidr as string));
    if (overlapping) {
      problems.push({ path: "network.vpcCidr", got: network.vpcCidr, expected: `a range that does not overlap ${overlapping} of network.reservedCidrs (peered and on-premises networks must stay routable)` });
    }
  }
  return problems;
}

/**
 * "Every hostname resolves": with dns.zone the program issues both certificates and writes the
 * records, so the hostnames must lie in the zone and the hand-made certificate ARNs must go;
 * without it the API's certificate comes from config.
 */
function dnsChecks(zone: string | undefined, frontend: Settings["frontend"] | undefined, services: Settings["services"] | undefined): Problem[] {
  const problems: Problem[] = [];
  const inZone = (host: string) => zone !== undefined && (host === zone || host.endsWith(`.${zone}`));
  if (zone === undefined) {
    if (services && !services.ingress.certificateArn) {
      problems.push({ path: "services.ingress.certificateArn", got: undefined, expected: "an ACM certificate ARN in the stack's region, or set dns.zone and the program issues it" });
    }
    return problems;
  }
  if (frontend?.domain && !inZone(frontend.domain)) problems.push({ path: "frontend.domain", got: frontend.domain, expected: `a name in dns.zone (${zone})` });
  if (frontend?.certificateArn) problems.push({ path: "frontend.certificateArn", got: frontend.certificateArn, expected: "unset when dns.zone is set (the program issues the certificate)" });
  if (services && !inZone(services.ingress.host)) problems.push({ path: "services.ingress.host", got: services.ingress.host, expected: `a name in dns.zone (${zone})` });
  if (services?.ingress.certificateArn) problems.push({ path: "services.ingress.certificateArn", got: services.ingress.certificateArn, expected: "unset when dns.zone is set (the program issues the certificate)" });
  return problems;
}

/** The sections that are valid on their own, parsed (defaults applied), for the cross checks. */
function validSections(raw: Record<string, unknown>): Partial<Settings> {
  const valid: Partial<Record<keyof Settings, unknown>> = {};
  for (const section of SECTIONS) {
    const parsed = configSchema.shape[section].safeParse(raw[section]);
    if (parsed.success) valid[section] = parsed.data;
  }
  return valid as Partial<Settings>;
}

interface Problem {
  path: string;
  got: unknown;
  expected: string;
}

/** Raised for any bad setting; lists every problem with the value seen and the form expected. */
export class ConfigError extends Error {
  constructor(
    readonly stackName: string,
    readonly problems: readonly Problem[],
  ) {
    const stack = stackName;
    // One line per key: a key whose form is wrong is not also reported by a rule that reads it.
    const lines = problems.filter((p, i) => problems.findIndex((q) => q.path === p.path) === i);
    super(
      [
        `Invalid configuration for stack "${stack}" (${lines.length} problem${lines.length === 1 ? "" : "s"}); nothing was registered.`,
        ...lines.map((p) => `  - ${PROJECT}:${p.path}: got ${describe(p.got)}; expected ${p.expected}`),
        `Fix each key in the stack's settings, Pulumi.${stack}.yaml or the --config-file given (or: pulumi config set --path <key> <value>); the README's config table lists every key.`,
      ].join("\n"),
    );
    this.name = "ConfigError";
  }
}

/** Stands for a value the error must not print. */
const NOT_SHOWN = Symbol("not shown");

function describe(value: unknown): string {
  if (value === undefined) return "nothing (the key is missing)";
  if (value === NOT_SHOWN) return "a value (not shown: it may be a secret)";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function issuePath(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String);
  return path.join(".");
}

function toProblems(issue: z.core.$ZodIssue): Problem[] {
  if (issue.code === "unrecognized_keys") {
    const section = issue.input as Record<string, unknown> | undefined;
    return issue.keys.map((key) => {
      const path = [...issue.path.map(String), key].join(".");
      const retired = RETIRED_KEYS[path];
      // A retired key's value is shown (its form is known); a mistyped key's never: it may hold a secret.
      return retired
        ? { path, got: section?.[key], expected: retired }
        : { path, got: NOT_SHOWN, expected: "no such key (check its spelling against the README's config table)" };
    });
  }
  return [{ path: issuePath(issue), got: issue.input, expected: issueExpected(issue) }];
}

/** The schema node at a dotted path of the settings, through optional and default wrappers. */
function schemaAt(path: readonly PropertyKey[]): z.ZodType | undefined {
  let node: z.ZodType | undefined = configSchema;
  for (const key of path) {
    while (node instanceof z.ZodOptional || node instanceof z.ZodDefault) node = node.unwrap() as z.ZodType;
    if (node instanceof z.ZodObject) node = (node.shape as Record<string, z.ZodType>)[String(key)];
    else if (node instanceof z.ZodArray) node = node.element as z.ZodType;
    else return undefined;
  }
  while (node instanceof z.ZodOptional || node instanceof z.ZodDefault) node = node.unwrap() as z.ZodType;
  return node;
}

/** The form a key expects, said in YAML terms: never zod's own wording, which names types YAML users do not write. */
function issueExpected(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type" && issue.expected === "object") {
    return "a section of settings (a YAML mapping; the README's config table lists its keys)";
  }
  if (issue.code === "invalid_type" && issue.expected === "array") {
    const list = schemaAt(issue.path);
    const element = list instanceof z.ZodArray ? (list.element as z.ZodType).description : undefined;
    return `a list${element ? ` (each item ${element})` : ""}, not a single value: one "- item" per line under the key, even for one item`;
  }
  const quoted = typeof issue.input === "string" ? issue.input.trim() : undefined;
  const quotedNumber = quoted !== undefined && quoted !== "" && Number.isFinite(Number(quoted));
  const quotedBoolean = quoted === "true" || quoted === "false";
  if (issue.code === "invalid_type" && ((issue.expected === "number" && quotedNumber) || (issue.expected === "boolean" && quotedBoolean))) {
    const what = issue.expected === "number" ? "a number" : "a boolean";
    return `${issue.message}, without quotes: the quoted "${issue.input}" is a string where ${what} belongs`;
  }
  if (issue.code === "invalid_type" && issue.expected === "string" && (typeof issue.input === "number" || typeof issue.input === "boolean")) {
    return `${issue.message}, in quotes: YAML reads ${String(issue.input)} unquoted as a ${typeof issue.input}`;
  }
  return issue.message;
}

/**
 * Validates raw (already JSON-parsed) settings for a stack. Pure: the mock harness, the offline
 * preview and the tests call it without the Pulumi runtime.
 */
export function parseConfig(stack: string, raw: Record<string, unknown>): Settings & { stack: string } {
  if (!STACK_NAME.test(stack)) {
    throw new ConfigError(stack, [{ path: "(stack)", got: stack, expected: "a Pulumi stack name: letters, digits, -, _ and . (such as dev, staging-eu, prod)" }]);
  }
  const result = configSchema.safeParse(raw, { reportInput: true });
  const problems = result.success
    ? crossChecks(result.data)
    : [...result.error.issues.flatMap(toProblems), ...crossChecks(validSections(raw))];
  if (!result.success || problems.length > 0) throw new ConfigError(stack, problems);
  return { ...result.data, stack };
}

/** Reads and validates this stack's settings; throws a ConfigError before anything is registered. */
export function loadConfig(): PlatformConfig {
  const stack = pulumi.getStack();
  const config = new pulumi.Config(PROJECT);
  const raw: Record<string, unknown> = {};
  const problems: Problem[] = [];
  for (const section of SECTIONS) {
    const text = config.get(section);
    if (text === undefined) continue;
    try {
      raw[section] = JSON.parse(text);
    } catch {
      raw[section] = text;
    }
  }
  const known = new Set<string>([...SECTIONS, ...SECRET_KEYS]);
  for (const key of Object.keys(pulumi.runtime.allConfig())) {
    const [namespace, name] = key.split(":");
    if (namespace === PROJECT && name !== undefined && !known.has(name)) {
      // Its value is not echoed: a mistyped secret key (`--secret kubeConfig`) would print the secret.
      problems.push({ path: name, got: NOT_SHOWN, expected: "no such key (check its spelling against the README's config table)" });
    }
  }
  const pageEmails = (raw.alarms as { pageEmails?: unknown } | undefined)?.pageEmails;
  if (!(`${PROJECT}:pageHttpsEndpoint` in pulumi.runtime.allConfig()) && !(Array.isArray(pageEmails) && pageEmails.length > 0)) {
    problems.push({
      path: "alarms.pageEmails",
      got: pageEmails,
      expected: "at least one on-call address, or the secret pageHttpsEndpoint (pulumi config set --secret pageHttpsEndpoint <url>): pages must reach someone",
    });
  }
  const region = new pulumi.Config("aws").get("region");
  if (!region || !AWS_REGION.test(region)) {
    problems.push({ path: "(aws:region)", got: region, expected: "an AWS region such as eu-west-1, set as aws:region" });
  }
  let parsed: ReturnType<typeof parseConfig> | undefined;
  try {
    parsed = parseConfig(stack, raw);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.unshift(...error.problems);
  }
  if (problems.length > 0 || !parsed || !region) throw new ConfigError(stack, problems);
  return {
    ...parsed,
    region,
    kubeconfig: config.getSecret("kubeconfig"),
    githubToken: config.getSecret("githubToken"),
    pageHttpsEndpoint: config.getSecret("pageHttpsEndpoint"),
  };
}
