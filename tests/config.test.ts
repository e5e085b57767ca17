import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig, PROJECT } from "../config";
import { MIN_BACKUP_RETENTION_DAYS, type StackName } from "../runbook";
import { ProgramError, readStackFile, runProgram } from "./support/harness";

/** A stack file's project settings, keyed by section, as parseConfig receives them. */
function rawConfig(stack: StackName): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(readStackFile(stack))) {
    if (key.startsWith(`${PROJECT}:`)) raw[key.slice(PROJECT.length + 1)] = structuredClone(value);
  }
  return raw;
}

/** The stack file's settings with one dotted key replaced (`undefined` removes it). */
function withSetting(stack: StackName, dotted: string, value: unknown): Record<string, unknown> {
  const raw = rawConfig(stack);
  const parts = dotted.split(".");
  let node = raw as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>;
  const last = parts[parts.length - 1] as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return raw;
}

function problemsOf(stack: string, raw: Record<string, unknown>): string[] {
  try {
    parseConfig(stack, raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split("\n").filter((line) => line.startsWith("  - "));
    throw error;
  }
  return [];
}

const DIGEST = "a".repeat(64);

describe("config: the stack files are valid", () => {
  it.each(["staging", "production"] as const)("%s parses with no problems", (stack) => {
    const config = parseConfig(stack, rawConfig(stack));
    expect(config.stack).toBe(stack);
    expect(config.database.backupRetentionDays).toBeGreaterThanOrEqual(MIN_BACKUP_RETENTION_DAYS[stack]);
  });

  it("states what differs between staging and production", () => {
    const staging = parseConfig("staging", rawConfig("staging"));
    const production = parseConfig("production", rawConfig("production"));
    expect([staging.database.multiAz, production.database.multiAz]).toEqual([false, true]);
    expect([staging.database.deletionProtection, production.database.deletionProtection]).toEqual([false, true]);
    expect([staging.database.backupRetentionDays, production.database.backupRetentionDays]).toEqual([7, 14]);
    expect([staging.cache.nodeCount, production.cache.nodeCount]).toEqual([1, 2]);
    expect([staging.services.apiReplicas, production.services.apiReplicas]).toEqual([1, 3]);
    expect([staging.repository.requiredApprovals, production.repository.requiredApprovals]).toEqual([1, 2]);
    expect(staging.image.ref).toMatch(/@sha256:[a-f0-9]{64}$/);
    expect(production.image.ref).toMatch(/@sha256:[a-f0-9]{64}$/);
    expect(production.image.verifiedBy).toBe("acme/runbook-platform/staging");
    expect([staging.image.smokeRecords, production.image.smokeRecords]).toEqual([true, undefined]);
    expect(staging.backup.copyTo).toBeUndefined();
    expect(production.backup.copyTo).toEqual({ region: "eu-central-1", retentionDays: 35 });
  });
});

describe("config: bad input names the key, what it got and what it expects", () => {
  const cases: [string, StackName, string, unknown, string][] = [
    ["missing required section", "staging", "database", undefined, `${PROJECT}:database: got nothing (the key is missing); expected`],
    ["missing required key", "staging", "database.instanceClass", undefined, `${PROJECT}:database.instanceClass: got nothing (the key is missing)`],
    ["wrong type", "staging", "database.allocatedStorageGb", "fifty", `${PROJECT}:database.allocatedStorageGb: got "fifty"; expected gigabytes from 20 to 65536`],
    ["number out of range", "staging", "database.backupRetentionDays", 40, `${PROJECT}:database.backupRetentionDays: got 40; expected days from 1 to 35`],
    ["retention below the stack's PITR minimum", "production", "database.backupRetentionDays", 7, `${PROJECT}:database.backupRetentionDays: got 7; expected at least 14 days in production`],
    ["non-integer", "staging", "database.maxConnections", 20.5, `${PROJECT}:database.maxConnections: got 20.5; expected connections from 20 to 5000`],
    ["unknown engine version", "staging", "database.engineVersion", "12", `${PROJECT}:database.engineVersion: got "12"; expected a PostgreSQL major version from "13" to "17"`],
    ["bad instance class", "staging", "database.instanceClass", "m5.large", `${PROJECT}:database.instanceClass: got "m5.large"; expected an RDS instance class`],
    ["malformed CIDR", "staging", "network.vpcCidr", "10.40.0.0/33", `${PROJECT}:network.vpcCidr: got "10.40.0.0/33"; expected an IPv4 CIDR`],
    ["VPC smaller than a /16", "staging", "network.vpcCidr", "10.40.0.0/24", `${PROJECT}:network.vpcCidr: got "10.40.0.0/24"; expected a /16 or larger`],
    ["CIDR admission, retired", "staging", "network.clusterNodeCidrs", ["10.40.0.0/16"], `${PROJECT}:network.clusterNodeCidrs: got ["10.40.0.0/16"]; expected removed: PostgreSQL and Redis admit the cluster's security group by reference`],
    ["hand-typed OIDC keys, retired", "staging", "services.irsa", { oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/x", oidcIssuer: "x" }, `${PROJECT}:services.irsa: got {"oidcProviderArn"`],
    ["hand-typed OIDC keys name their replacement", "staging", "services.irsa", { oidcIssuer: "x" }, "expected removed (oidcProviderArn, oidcIssuer): IRSA trusts the OIDC provider read from the cluster"],
    ["kube context, retired", "staging", "services.kubeContext", "staging-eks", "expected removed: the Kubernetes provider is built from the cluster (aws eks get-token); the secret kubeconfig overrides it"],
    ["existing VPC section, retired", "staging", "network.existing", { vpcId: "vpc-0abc12345def67890" }, "expected removed: set cluster.mode existing and cluster.name"],
    ["existing cluster without a name", "production", "cluster.name", undefined, `${PROJECT}:cluster.name: got nothing (the key is missing); expected the name of the EKS cluster to look up (cluster.mode existing)`],
    ["a VPC range with an existing cluster", "production", "network", { vpcCidr: "10.50.0.0/16" }, `${PROJECT}:network.vpcCidr: got "10.50.0.0/16"; expected unset with cluster.mode existing (the VPC is the existing cluster's, looked up`],
    ["a node group with an existing cluster", "production", "cluster.nodeGroup", { instanceTypes: ["m7g.large"], minSize: 1, desiredSize: 1, maxSize: 1 }, `${PROJECT}:cluster.nodeGroup: got`],
    ["data subnets with a created VPC", "staging", "network.dataSubnetIds", ["subnet-0a1b2c3d", "subnet-4e5f6a7b"], "expected unset with cluster.mode create (the data tier gets the new VPC's isolated subnets)"],
    ["a new VPC overlapping a reserved network", "staging", "network.reservedCidrs", ["10.40.128.0/17"], `${PROJECT}:network.vpcCidr: got "10.40.0.0/16"; expected a range that does not overlap 10.40.128.0/17 of network.reservedCidrs`],
    ["a new cluster without a version", "staging", "cluster.version", undefined, `${PROJECT}:cluster.version: got nothing (the key is missing); expected the new cluster's Kubernetes version`],
    ["a new cluster without endpoint CIDRs", "staging", "cluster.publicAccessCidrs", undefined, "expected the CIDRs allowed to the public API endpoint"],
    ["a node group whose desired size is outside its bounds", "staging", "cluster.nodeGroup.desiredSize", 9, `${PROJECT}:cluster.nodeGroup.desiredSize: got 9; expected from cluster.nodeGroup.minSize (2) to maxSize (4)`],
    ["an unknown cluster mode", "staging", "cluster.mode", "eksctl", `${PROJECT}:cluster.mode: got "eksctl"; expected "create" (a new VPC and EKS cluster) or "existing"`],
    ["malformed email", "staging", "alarms.ticketEmails", ["platform-tickets"], `${PROJECT}:alarms.ticketEmails.0: got "platform-tickets"; expected an email address`],
    ["malformed ARN", "production", "frontend.certificateArn", "arn:aws:acm:us-east-1:123:cert/x", `${PROJECT}:frontend.certificateArn: got "arn:aws:acm:us-east-1:123:cert/x"; expected an ACM certificate ARN`],
    ["certificate outside us-east-1", "staging", "frontend.certificateArn", "arn:aws:acm:eu-west-1:123456789012:certificate/66666666-7777-8888-9999-000000000000", "expected a certificate in us-east-1"],
    ["domain without certificate", "staging", "frontend.domain", "app.staging.example.com", `${PROJECT}:frontend.certificateArn: got nothing (the key is missing); expected domain and certificateArn set together (a custom domain needs its us-east-1 certificate)`],
    ["malformed URL-like host", "staging", "services.ingress.host", "https://api.example.com", `${PROJECT}:services.ingress.host: got "https://api.example.com"; expected a lower-case DNS name`],
    ["image by tag in staging", "staging", "image.ref", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/runbook-api:v1.2.3", "expected an image pinned by digest"],
    ["image by tag in production", "production", "image.ref", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/runbook-api:latest", `${PROJECT}:image.ref: got "123456789012.dkr.ecr.eu-west-1.amazonaws.com/runbook-api:latest"; expected an image pinned by digest`],
    ["image from another repository", "staging", "image.ref", `123456789012.dkr.ecr.eu-west-1.amazonaws.com/other@sha256:${DIGEST}`, "expected an image from image.repository"],
    ["staging without an artifact", "staging", "image.ref", undefined, `${PROJECT}:image.ref: got nothing (the key is missing); expected the artifact staging runs, pinned by digest`],
    ["production without an artifact", "production", "image.ref", undefined, `${PROJECT}:image.ref: got nothing (the key is missing); expected the artifact this stack runs, pinned by digest (<repository>@sha256:...); npm run promote writes it`],
    ["production without a verifying stack", "production", "image.verifiedBy", undefined, `${PROJECT}:image.verifiedBy: got nothing (the key is missing); expected the stack whose smoke checks must have passed with image.ref`],
    ["a scheduled update in production", "production", "delivery.weeklyDrillUpdate", true, `${PROJECT}:delivery.weeklyDrillUpdate: got true; expected unset in production (a scheduled \`pulumi up\` would deploy whatever main holds`],
    ["smoke records kept in production", "production", "image.smokeRecords", true, `${PROJECT}:image.smokeRecords: got true; expected unset in production`],
    ["one API replica in production", "production", "services.apiReplicas", 1, `${PROJECT}:services.apiReplicas: got 1; expected at least 2 in production`],
    ["worker scaled to zero in production", "production", "services.workerReplicas", 0, `${PROJECT}:services.workerReplicas: got 0; expected at least 1 in production`],
    ["single-node cache in production", "production", "cache.nodeCount", 1, `${PROJECT}:cache.nodeCount: got 1; expected at least 2 in production`],
    ["production without multi-AZ", "production", "database.multiAz", false, `${PROJECT}:database.multiAz: got false; expected true in production`],
    ["production without deletion protection", "production", "database.deletionProtection", false, `${PROJECT}:database.deletionProtection: got false; expected true in production`],
    ["evicting cache policy", "staging", "cache.maxmemoryPolicy", "allkeys-lru", `${PROJECT}:cache.maxmemoryPolicy: got "allkeys-lru"; expected "noeviction"`],
    ["misspelled key", "staging", "database.backupRetention", 7, `${PROJECT}:database.backupRetention: got`],
    ["log retention CloudWatch does not offer", "staging", "alarms.logRetentionDays", 45, `${PROJECT}:alarms.logRetentionDays: got 45; expected one of CloudWatch's retention periods`],
    ["cross-region copy outside production", "staging", "backup.copyTo", { region: "eu-central-1", retentionDays: 35 }, `${PROJECT}:backup.copyTo: got {"region":"eu-central-1","retentionDays":35}; expected unset outside production`],
    ["storage ceiling below the floor", "staging", "database.maxAllocatedStorageGb", 30, `${PROJECT}:database.maxAllocatedStorageGb: got 30; expected at least allocatedStorageGb (50)`],
    ["non-daily backup schedule", "staging", "backup.schedule", "cron(0 3 ? * SUN *)", `${PROJECT}:backup.schedule: got "cron(0 3 ? * SUN *)"; expected a daily AWS cron expression`],
  ];

  it.each(cases)("%s", (_label, stack, key, value, expected) => {
    const problems = problemsOf(stack, withSetting(stack, key, value));
    expect(problems.join("\n")).toContain(expected);
  });

  it("blames the key that is out of order: maxSize below minSize, or desiredSize outside them", () => {
    const nodeGroup = (sizes: Record<string, number>) =>
      withSetting("staging", "cluster.nodeGroup", { ...(rawConfig("staging").cluster as { nodeGroup: Record<string, unknown> }).nodeGroup, ...sizes });
    expect(problemsOf("staging", nodeGroup({ minSize: 3, desiredSize: 3, maxSize: 2 }))).toEqual([
      `  - ${PROJECT}:cluster.nodeGroup.maxSize: got 2; expected at least cluster.nodeGroup.minSize (3)`,
    ]);
    expect(problemsOf("staging", nodeGroup({ minSize: 2, desiredSize: 5, maxSize: 4 }))).toEqual([
      `  - ${PROJECT}:cluster.nodeGroup.desiredSize: got 5; expected from cluster.nodeGroup.minSize (2) to maxSize (4)`,
    ]);
  });

  it("a malformed dns.zone is the one problem reported, not the certificates that follow from it", () => {
    expect(problemsOf("production", withSetting("production", "dns.zone", "Example.COM"))).toEqual([
      `  - ${PROJECT}:dns.zone: got "Example.COM"; expected a lower-case DNS name such as app.example.com`,
    ]);
  });

  it("refuses a production cluster whose public endpoint is open to the world, and a new cluster no role can administer", () => {
    const open = { ...(rawConfig("staging").cluster as Record<string, unknown>), publicAccessCidrs: ["0.0.0.0/0"] };
    const production = { ...rawConfig("production"), cluster: open, network: rawConfig("staging").network };
    expect(problemsOf("production", production)).toContain(
      `  - ${PROJECT}:cluster.publicAccessCidrs: got "0.0.0.0/0"; expected ranges narrower than /0 in production (the API endpoint is never open to the world), or [] for a private endpoint only`,
    );
    expect(problemsOf("staging", withSetting("staging", "cluster.publicAccessCidrs", ["0.0.0.0/0"]))).toEqual([]);
    const noRole = withSetting("staging", "delivery.awsRoleArn", undefined);
    expect(problemsOf("staging", noRole)).toEqual([
      `  - ${PROJECT}:cluster.adminRoleArns: got []; expected at least one role, or delivery.awsRoleArn: a new cluster grants access only through EKS access entries`,
    ]);
  });

  it("needs neither a VPC range nor a zone count for an existing cluster", () => {
    expect(rawConfig("production").network).toBeUndefined();
    expect(parseConfig("production", rawConfig("production")).network).toEqual({ reservedCidrs: [] });
  });

  it("takes any stack name: the stack file's environment picks the rules", () => {
    expect(parseConfig("dev", rawConfig("staging"))).toMatchObject({ stack: "dev", environment: "staging", namePrefix: "runbook", appName: "runbook-app" });
    expect(parseConfig("prod", rawConfig("production"))).toMatchObject({ stack: "prod", environment: "production" });
    // A stack called "staging" that declares production is held to production's rules.
    expect(problemsOf("staging", withSetting("staging", "environment", "production"))).toContain(
      `  - ${PROJECT}:database.backupRetentionDays: got 7; expected at least 14 days in production (automated backups are what keep PITR on)`,
    );
    expect(problemsOf("staging eu", rawConfig("staging"))).toEqual([
      `  - the stack's name: got "staging eu"; expected a Pulumi stack name: letters, digits, -, _ and . (such as dev, staging-eu, prod)`,
    ]);
  });

  it("requires the environment, and holds back the rules that depend on it until it is valid", () => {
    expect(problemsOf("dev", withSetting("staging", "environment", undefined))).toEqual([
      `  - ${PROJECT}:environment: got nothing (the key is missing); expected "staging" or "production": the environment whose rules, defaults and policies this stack follows`,
    ]);
    expect(problemsOf("prod", withSetting("production", "environment", "prod"))).toEqual([
      `  - ${PROJECT}:environment: got "prod"; expected "staging" or "production": the environment whose rules, defaults and policies this stack follows`,
    ]);
  });

  it.each([
    ["a quoted number", "database.allocatedStorageGb", "50", `${PROJECT}:database.allocatedStorageGb: got "50"; expected gigabytes from 20 to 65536, without quotes: the quoted "50" is a string where a number belongs`],
    ["a quoted boolean", "database.multiAz", "false", `${PROJECT}:database.multiAz: got "false"; expected true or false, without quotes: the quoted "false" is a string where a boolean belongs`],
    ["an unquoted version", "database.engineVersion", 16, `${PROJECT}:database.engineVersion: got 16; expected a PostgreSQL major version from "13" to "17", in quotes: YAML reads 16 unquoted as a number`],
    ["a single value where a list belongs", "alarms.ticketEmails", "a@example.com", `${PROJECT}:alarms.ticketEmails: got "a@example.com"; expected a list (each item an email address), not a single value: one "- item" per line under the key, even for one item`],
  ])("says it in YAML terms: %s", (_label, key, value, expected) => {
    expect(problemsOf("staging", withSetting("staging", key, value))).toEqual([`  - ${expected}`]);
  });

  it("refuses volatile-ttl, which the policy pack refuses too", () => {
    const problems = problemsOf("staging", withSetting("staging", "cache.maxmemoryPolicy", "volatile-ttl"));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`${PROJECT}:cache.maxmemoryPolicy: got "volatile-ttl"; expected "noeviction": replay-protection and rate-limit keys are never evicted`);
  });

  it("lists every bad key in one error, with the fix", () => {
    const raw = withSetting("staging", "database.backupRetentionDays", 0);
    (raw.network as Record<string, unknown>).vpcCidr = "not-a-cidr";
    (raw.alarms as Record<string, unknown>).ticketEmails = ["nobody"];
    let message = "";
    try {
      parseConfig("staging", raw);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split("\n")[0]).toBe('Invalid configuration for stack "staging" (3 problems); nothing was registered.');
    expect(message).toContain(`${PROJECT}:database.backupRetentionDays: got 0`);
    expect(message).toContain(`${PROJECT}:network.vpcCidr: got "not-a-cidr"`);
    expect(message).toContain(`${PROJECT}:alarms.ticketEmails.0: got "nobody"`);
    expect(message).toContain("Fix each key in the stack's settings, Pulumi.staging.yaml or the --config-file given");
  });

  it("never prints the value of a mistyped key inside a section (it may hold a secret)", () => {
    const raw = withSetting("staging", "database.masterPasswrd", "hunter2-secret");
    expect(problemsOf("staging", raw)).toEqual([
      `  - ${PROJECT}:database.masterPasswrd: got a value (not shown: it may be a secret); expected no such key (check its spelling against the README's config table)`,
    ]);
  });
});

describe("config: schema errors and per-stack rules in one error", () => {
  it("reports a production rule broken in a valid section beside a malformed key of another section", () => {
    const raw = withSetting("production", "services.apiReplicas", 1);
    (raw.database as Record<string, unknown>).instanceClass = "m5.large";
    expect(problemsOf("production", raw)).toEqual([
      `  - ${PROJECT}:database.instanceClass: got "m5.large"; expected an RDS instance class such as db.t4g.medium or db.r6g.large`,
      `  - ${PROJECT}:services.apiReplicas: got 1; expected at least 2 in production (one pod is not highly available)`,
    ]);
  });

  it("skips the rules of a section that is itself malformed, so no problem is reported twice or guessed at", () => {
    const raw = withSetting("production", "services.apiReplicas", 1);
    (raw.services as Record<string, unknown>).port = "http";
    expect(problemsOf("production", raw)).toEqual([`  - ${PROJECT}:services.port: got "http"; expected a port from 1024 to 65535`]);
  });
});

describe("config: errors stop the program before any resource is registered", () => {
  const bad: [string, StackName, Record<string, unknown>, string][] = [
    ["tag-only image in production", "production", { image: { ref: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/runbook-api:v1" } }, "image.ref"],
    ["one API replica in production", "production", { services: { apiReplicas: 1 } }, "services.apiReplicas"],
    ["retention below PITR minimum", "staging", { database: { backupRetentionDays: 3 } }, "database.backupRetentionDays"],
    ["an unknown project key", "staging", { databse: { engineVersion: "16" } }, `${PROJECT}:databse`],
    ["no region", "staging", { "aws:region": null }, "  - aws:region: got nothing (the key is missing); expected an AWS region"],
    ["no on-call destination", "staging", { alarms: { pageEmails: [] } }, "alarms.pageEmails"],
  ];

  it.each(bad)("%s", async (_label, stack, config, key) => {
    const failure = await runProgram({ stack, config }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ProgramError);
    const { cause, resources } = failure as ProgramError;
    expect(cause).toBeInstanceOf(ConfigError);
    expect((cause as ConfigError).message).toContain(key);
    expect(resources).toEqual([]);
  });

  it("names a mistyped secret key without printing its value", async () => {
    const failure = await runProgram({ stack: "staging", secrets: { kubeConfig: "apiVersion: v1 # s3cret-token" } }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ProgramError);
    const { message } = failure as ProgramError;
    expect(message).toContain(`${PROJECT}:kubeConfig: got a value (not shown: it may be a secret); expected no such key`);
    expect(message).not.toContain("s3cret-token");
  });

  it("reports a single page address where a list belongs once, not also as a missing address", async () => {
    const failure = (await runProgram({ stack: "staging", config: { alarms: { pageEmails: "oncall@example.com" } } }).catch((error: unknown) => error)) as ProgramError;
    expect(failure.message.split("\n").filter((line) => line.startsWith("  - "))).toEqual([
      `  - ${PROJECT}:alarms.pageEmails: got "oncall@example.com"; expected a list (each item an email address), not a single value: one "- item" per line under the key, even for one item`,
    ]);
  });

  it("accepts the secret on-call endpoint instead of page emails", async () => {
    const result = await runProgram({
      stack: "staging",
      config: { alarms: { pageEmails: [] } },
      secrets: { pageHttpsEndpoint: "https://events.pagerduty.com/integration/abc123/enqueue" },
    });
    expect(result.resources.length).toBeGreaterThan(0);
  });
});
