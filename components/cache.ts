import * as pulumi from "@pulumi/pulumi";
import * as elasticache from "@pulumi/aws/elasticache";
import * as kms from "@pulumi/aws/kms";
import { RandomPassword } from "@pulumi/random/randomPassword";
import { REPLAY_SAFE_MAXMEMORY_POLICIES, type Environment, type ReplaySafeMaxmemoryPolicy } from "../runbook";
import type { StackIdentity } from "./naming";
import { physicalName } from "./naming";
import { REDIS_PORT } from "./network";
import { assertNoProblems, type SettingProblem } from "./problems";
import { KMS_DELETION_WINDOW_DAYS, named, stateful } from "./protection";

/**
 * The only non-alphanumeric characters ElastiCache accepts in an AUTH token. The REDIS_URL
 * percent-encodes them, so clients that decode the URL (ioredis, node-redis) get the token back.
 */
export const AUTH_TOKEN_SPECIALS = "!&#$^<>-";

/** ElastiCache AUTH tokens are 16 to 128 characters. */
export const AUTH_TOKEN_LENGTH = 64;


export interface CacheArgs {
  /** Stack the cache belongs to; part of every physical name. */
  stack: StackIdentity;
  /** Cache engine. Changing it replaces the replication group. */
  engine: "valkey" | "redis";
  /** Engine version as major.minor. @example "8.0" */
  engineVersion: string;
  /** Node type. @example "cache.t4g.small" */
  nodeType: string;
  /** Primary plus replicas; 2 or more turns on automatic failover and multi-AZ. */
  nodeCount: number;
  /** Days of daily snapshots kept (0 turns snapshots off). */
  snapshotRetentionDays: number;
  /**
   * maxmemory-policy. A replay guard that loses its keys lets replayed webhooks through, and a
   * rate limiter that loses its counters lets bursts through.
   * @default "noeviction"
   */
  maxmemoryPolicy?: ReplaySafeMaxmemoryPolicy;
  /** Private subnets of the cache subnet group, in at least two availability zones. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Security group that admits Redis from the application only. */
  securityGroupId: pulumi.Input<string>;
  /** Tags for every taggable child. */
  tags: Record<string, string>;
  /** Reach the replication group's raw args for settings this interface does not offer. */
  transform?: { replicationGroup?: (args: elasticache.ReplicationGroupArgs) => elasticache.ReplicationGroupArgs };
}

/** ElastiCache parameter group family: `valkey8`, `valkey7`, `redis7`, `redis6.x`. */
export function cacheParameterGroupFamily(engine: CacheArgs["engine"], engineVersion: string): string {
  const major = engineVersion.split(".")[0];
  if (engine === "redis" && major === "6") return "redis6.x";
  return `${engine}${major}`;
}

/** The cache settings the shared rules read. */
export interface CacheRuleSettings {
  environment: Environment;
  engine: CacheArgs["engine"];
  /** major.minor, such as "8.0". */
  engineVersion: string;
  nodeCount: number;
}

/**
 * The cache rules config.ts and validateCacheArgs share: an engine version ElastiCache offers for
 * the engine (Valkey from 7.2, Redis OSS 6.2 to 7.1: ElastiCache's supported engine versions), and a
 * replica in production (automatic failover and multi-AZ need one).
 */
export function cacheProblems(s: CacheRuleSettings): SettingProblem[] {
  const problems: SettingProblem[] = [];
  const version = Number(s.engineVersion);
  // Written so a version that is not a number (NaN) fails too.
  if (s.engine === "valkey" ? !(version >= 7.2) : !(version >= 6.2 && version < 8)) {
    problems.push({
      key: "engineVersion",
      got: s.engineVersion,
      expected: s.engine === "valkey" ? 'a Valkey version ElastiCache offers ("7.2" or "8.0")' : 'a Redis OSS version ElastiCache offers ("6.2" to "7.1"), or engine "valkey"',
    });
  }
  if (s.environment === "production" && s.nodeCount < 2) {
    problems.push({ key: "nodeCount", got: s.nodeCount, expected: "at least 2 in production (automatic failover and multi-AZ need a replica)" });
  }
  return problems;
}

/**
 * Throws a fixable message for args ElastiCache would refuse, or that weaken the replay guard: the
 * forms config.ts's schema checks for a stack file, then the shared rules (cacheProblems).
 */
export function validateCacheArgs(args: CacheArgs): void {
  if (!/^\d+\.\d+$/.test(args.engineVersion)) throw new Error(`Cache: engineVersion "${args.engineVersion}" is not major.minor, such as "8.0".`);
  if (!Number.isInteger(args.nodeCount) || args.nodeCount < 1 || args.nodeCount > 6) {
    throw new Error(`Cache: nodeCount is ${args.nodeCount}; a replication group has 1 to 6 nodes.`);
  }
  if (!Number.isInteger(args.snapshotRetentionDays) || args.snapshotRetentionDays < 0 || args.snapshotRetentionDays > 35) {
    throw new Error(`Cache: snapshotRetentionDays is ${args.snapshotRetentionDays}; use 0 (off) to 35.`);
  }
  const policy = args.maxmemoryPolicy ?? "noeviction";
  if (!(REPLAY_SAFE_MAXMEMORY_POLICIES as readonly string[]).includes(policy)) {
    throw new Error(`Cache: maxmemoryPolicy "${String(policy)}" may evict replay-protection or rate-limit keys; use "noeviction".`);
  }
  assertNoProblems("Cache", cacheProblems({ environment: args.stack.environment, engine: args.engine, engineVersion: args.engineVersion, nodeCount: args.nodeCount }));
}

/** `rediss://:<token>@<host>:<port>` with the token percent-encoded. */
export function redisUrl(host: string, port: number, token: string): string {
  return `rediss://:${encodeURIComponent(token)}@${host}:${port}`;
}

/**
 * An ElastiCache replication group for webhook replay protection and distributed rate limiting:
 * TLS required, AUTH token, encrypted at rest with its own KMS key, keys never silently evicted.
 */
export class Cache extends pulumi.ComponentResource {
  public readonly replicationGroupId: pulumi.Output<string>;
  public readonly arn: pulumi.Output<string>;
  /** Primary endpoint: writes go here (SET NX for replay keys, INCR for rate limits). */
  public readonly primaryEndpoint: pulumi.Output<string>;
  public readonly readerEndpoint: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  /** AUTH token (secret). */
  public readonly authToken: pulumi.Output<string>;
  /** REDIS_URL for the API and worker (secret). */
  public readonly redisUrl: pulumi.Output<string>;
  public readonly kmsKeyArn: pulumi.Output<string>;
  public readonly maxmemoryPolicy: pulumi.Output<string>;

  constructor(name: string, args: CacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook-platform:data:Cache", name, {}, opts);
    validateCacheArgs(args);
    const { stack, tags, transform } = args;
    const maxmemoryPolicy = args.maxmemoryPolicy ?? "noeviction";
    const highlyAvailable = args.nodeCount >= 2;

    const key = new kms.Key(
      `${name}-key`,
      {
        description: `runbook-platform ${stack.name} cache: data at rest and snapshots`,
        enableKeyRotation: true,
        deletionWindowInDays: KMS_DELETION_WINDOW_DAYS,
        tags,
      },
      stateful(stack, "key", this),
    );

    const authToken = new RandomPassword(
      `${name}-auth-token`,
      { length: AUTH_TOKEN_LENGTH, special: true, overrideSpecial: AUTH_TOKEN_SPECIALS },
      { parent: this },
    );

    const subnetGroup = new elasticache.SubnetGroup(
      `${name}-subnets`,
      { name: physicalName(stack, "cache", "elasticache"), description: "Private subnets of the runbook cache", subnetIds: args.subnetIds, tags },
      named(this),
    );

    const family = cacheParameterGroupFamily(args.engine, args.engineVersion);
    const parameterGroup = new elasticache.ParameterGroup(
      `${name}-params`,
      {
        // The family is in the name: an engine upgrade creates the new group before deleting the old.
        name: physicalName(stack, `cache-${family.replace(".", "")}`, "elasticache"),
        family,
        description: `maxmemory-policy ${maxmemoryPolicy}: replay-protection and rate-limit keys are never silently evicted`,
        parameters: [{ name: "maxmemory-policy", value: maxmemoryPolicy }],
        tags,
      },
      named(this),
    );

    const groupArgs: elasticache.ReplicationGroupArgs = {
      replicationGroupId: physicalName(stack, "cache", "elasticache"),
      description: "Webhook replay protection and distributed rate limiting",
      engine: args.engine,
      engineVersion: args.engineVersion,
      nodeType: args.nodeType,
      numCacheClusters: args.nodeCount,
      automaticFailoverEnabled: highlyAvailable,
      multiAzEnabled: highlyAvailable,
      port: REDIS_PORT,
      parameterGroupName: parameterGroup.name,
      subnetGroupName: subnetGroup.name,
      securityGroupIds: [args.securityGroupId],
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      atRestEncryptionEnabled: true,
      kmsKeyId: key.arn,
      authToken: authToken.result,
      snapshotRetentionLimit: args.snapshotRetentionDays,
      autoMinorVersionUpgrade: true,
      tags,
    };
    const group = new elasticache.ReplicationGroup(
      `${name}-replication-group`,
      transform?.replicationGroup ? transform.replicationGroup(groupArgs) : groupArgs,
      stateful(stack, "cache", this, { deleteBeforeReplace: true }),
    );

    this.replicationGroupId = group.id;
    this.arn = group.arn;
    this.primaryEndpoint = group.primaryEndpointAddress;
    this.readerEndpoint = group.readerEndpointAddress;
    this.port = group.port.apply((port) => port ?? REDIS_PORT);
    this.authToken = pulumi.secret(authToken.result);
    this.redisUrl = pulumi.secret(
      pulumi.all([group.primaryEndpointAddress, this.port, authToken.result]).apply(([host, port, token]) => redisUrl(host, port, token)),
    );
    this.kmsKeyArn = key.arn;
    this.maxmemoryPolicy = pulumi.output(maxmemoryPolicy);

    this.registerOutputs({
      replicationGroupId: this.replicationGroupId,
      arn: this.arn,
      primaryEndpoint: this.primaryEndpoint,
      readerEndpoint: this.readerEndpoint,
      port: this.port,
      authToken: this.authToken,
      redisUrl: this.redisUrl,
      kmsKeyArn: this.kmsKeyArn,
      maxmemoryPolicy: this.maxmemoryPolicy,
    });
  }
}
