import Redis from "ioredis";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  AUTH_TOKEN_LENGTH,
  AUTH_TOKEN_SPECIALS,
  cacheParameterGroupFamily,
  redisUrl,
  validateCacheArgs,
  type CacheArgs,
} from "../../components/cache";
import type { StackName } from "../../runbook";
import { ACCOUNT_ID, one, ofType, runProgram, type ProgramResult } from "../support/harness";
import { startRedis, type RedisServer } from "../support/redis";
import { shippedStack } from "../../components/naming";

const EXPECTED = {
  staging: { nodeType: "cache.t4g.small", numCacheClusters: 1, highlyAvailable: false, snapshotRetentionLimit: 1 },
  production: { nodeType: "cache.r7g.large", numCacheClusters: 2, highlyAvailable: true, snapshotRetentionLimit: 7 },
} as const;

function baseArgs(stack: StackName): CacheArgs {
  return {
    stack: shippedStack(stack),
    engine: "valkey",
    engineVersion: "8.0",
    nodeType: "cache.t4g.small",
    nodeCount: stack === "production" ? 2 : 1,
    snapshotRetentionDays: 1,
    subnetIds: ["subnet-0a1b2c3d", "subnet-4e5f6a7b"],
    securityGroupId: "sg-0abc1234",
    tags: {},
  };
}

const results = {} as Record<StackName, ProgramResult>;
beforeAll(async () => {
  results.staging = await runProgram({ stack: "staging" });
  results.production = await runProgram({ stack: "production" });
});

describe.each(["staging", "production"] as const)("Cache in %s", (stack) => {
  const expected = EXPECTED[stack];
  const group = () => one(results[stack], "aws:elasticache/replicationGroup:ReplicationGroup", "cache-replication-group");
  const token = () => one(results[stack], "random:index/randomPassword:RandomPassword", "cache-auth-token");

  it("is one component whose children are all named after it", () => {
    const component = one(results[stack], "runbook-platform:data:Cache");
    expect(component).toMatchObject({ name: "cache", parent: undefined, custom: false });
    const kids = results[stack].resources.filter((r) => r.parentName === "cache");
    expect(kids.map((k) => k.type).sort()).toEqual([
      "aws:elasticache/parameterGroup:ParameterGroup",
      "aws:elasticache/replicationGroup:ReplicationGroup",
      "aws:elasticache/subnetGroup:SubnetGroup",
      "aws:kms/key:Key",
      "random:index/randomPassword:RandomPassword",
    ]);
    for (const child of kids) expect(child.name.startsWith(`${component.name}-`), child.name).toBe(true);
  });

  it("runs Valkey 8.0 with TLS required, AUTH, KMS at rest and snapshots", () => {
    const key = one(results[stack], "aws:kms/key:Key", "cache-key");
    expect(key.inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    expect(group().inputs).toMatchObject({
      replicationGroupId: `runbook-${stack}-cache`,
      engine: "valkey",
      engineVersion: "8.0",
      nodeType: expected.nodeType,
      numCacheClusters: expected.numCacheClusters,
      port: 6379,
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      atRestEncryptionEnabled: true,
      snapshotRetentionLimit: expected.snapshotRetentionLimit,
      autoMinorVersionUpgrade: true,
      parameterGroupName: `runbook-${stack}-cache-valkey8`,
      subnetGroupName: `runbook-${stack}-cache`,
      securityGroupIds: [results[stack].outputs.cacheSecurityGroupId],
      tags: { project: "runbook-platform", stack, "managed-by": "pulumi" },
    });
    expect(group().inputs.kmsKeyId).toMatch(new RegExp(`^arn:aws:kms:eu-west-1:${ACCOUNT_ID}:key/`));
  });

  it("takes its AUTH token from a secret RandomPassword limited to ElastiCache's characters", () => {
    expect(token().inputs).toMatchObject({ length: AUTH_TOKEN_LENGTH, special: true, overrideSpecial: "!&#$^<>-" });
    expect(group().secretPaths).toContain("authToken");
    const authToken = group().inputs.authToken as string;
    expect(authToken).toHaveLength(64);
    expect(authToken.endsWith(AUTH_TOKEN_SPECIALS)).toBe(true);
  });

  it("never evicts replay-protection or rate-limit keys: maxmemory-policy noeviction", () => {
    const params = one(results[stack], "aws:elasticache/parameterGroup:ParameterGroup", "cache-params");
    expect(params.inputs).toMatchObject({ name: `runbook-${stack}-cache-valkey8`, family: "valkey8" });
    expect(params.inputs.parameters).toEqual([{ name: "maxmemory-policy", value: "noeviction" }]);
  });

  it("sits on the network's private subnets", () => {
    const subnets = one(results[stack], "aws:elasticache/subnetGroup:SubnetGroup", "cache-subnets");
    expect(subnets.inputs).toMatchObject({ name: `runbook-${stack}-cache`, subnetIds: results[stack].outputs.dataSubnetIds });
  });

  it("exports the endpoint and port in the clear and REDIS_URL only as a secret", () => {
    const { outputs, secretOutputs } = results[stack];
    const host = outputs.cachePrimaryEndpoint as string;
    expect(host).toMatch(new RegExp(`^master\\.runbook-${stack}-cache\\.`));
    expect(outputs.cachePort).toBe(6379);
    expect(outputs.redisUrl).toBe(`rediss://:${encodeURIComponent(group().inputs.authToken as string)}@${host}:6379`);
    expect(secretOutputs).toContain("redisUrl");
    expect(secretOutputs).not.toContain("cachePrimaryEndpoint");
    expect(secretOutputs).not.toContain("cachePort");
  });
});

describe("Cache: what differs between staging and production", () => {
  it.each(["staging", "production"] as const)("%s: node count, failover, multi-AZ, snapshot retention", (stack) => {
    const inputs = one(results[stack], "aws:elasticache/replicationGroup:ReplicationGroup", "cache-replication-group").inputs;
    expect({
      numCacheClusters: inputs.numCacheClusters,
      automaticFailoverEnabled: inputs.automaticFailoverEnabled,
      multiAzEnabled: inputs.multiAzEnabled,
      snapshotRetentionLimit: inputs.snapshotRetentionLimit,
    }).toEqual({
      numCacheClusters: EXPECTED[stack].numCacheClusters,
      automaticFailoverEnabled: EXPECTED[stack].highlyAvailable,
      multiAzEnabled: EXPECTED[stack].highlyAvailable,
      snapshotRetentionLimit: EXPECTED[stack].snapshotRetentionLimit,
    });
  });

  it("turns failover and multi-AZ on in staging too once it has a replica", async () => {
    const result = await runProgram({ stack: "staging", config: { cache: { nodeCount: 2 } } });
    expect(one(result, "aws:elasticache/replicationGroup:ReplicationGroup", "cache-replication-group").inputs).toMatchObject({
      numCacheClusters: 2,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
    });
  });

  it("follows engine and version into the parameter group family", async () => {
    const result = await runProgram({ stack: "staging", config: { cache: { engine: "redis", engineVersion: "7.1" } } });
    expect(one(result, "aws:elasticache/replicationGroup:ReplicationGroup", "cache-replication-group").inputs).toMatchObject({ engine: "redis", engineVersion: "7.1" });
    expect(one(result, "aws:elasticache/parameterGroup:ParameterGroup", "cache-params").inputs).toMatchObject({ family: "redis7", name: "runbook-staging-cache-redis7" });
    expect(ofType(result, "aws:elasticache/replicationGroup:ReplicationGroup")).toHaveLength(1);
  });
});

describe("validateCacheArgs", () => {
  it("accepts the base args of both stacks", () => {
    expect(() => validateCacheArgs(baseArgs("staging"))).not.toThrow();
    expect(() => validateCacheArgs(baseArgs("production"))).not.toThrow();
  });

  it("refuses engine versions ElastiCache does not offer", () => {
    expect(() => validateCacheArgs({ ...baseArgs("staging"), engineVersion: "7.0" })).toThrow(
      'Cache: engineVersion is "7.0"; expected a Valkey version ElastiCache offers ("7.2" or "8.0").',
    );
    expect(() => validateCacheArgs({ ...baseArgs("staging"), engine: "redis", engineVersion: "8.0" })).toThrow(
      'Cache: engineVersion is "8.0"; expected a Redis OSS version ElastiCache offers ("6.2" to "7.1"), or engine "valkey".',
    );
    expect(() => validateCacheArgs({ ...baseArgs("staging"), engineVersion: "8" })).toThrow('Cache: engineVersion "8" is not major.minor, such as "8.0".');
  });

  it("refuses a single node in production and node counts outside 1 to 6", () => {
    expect(() => validateCacheArgs({ ...baseArgs("production"), nodeCount: 1 })).toThrow(
      "Cache: nodeCount is 1; expected at least 2 in production (automatic failover and multi-AZ need a replica).",
    );
    expect(() => validateCacheArgs({ ...baseArgs("staging"), nodeCount: 7 })).toThrow("Cache: nodeCount is 7; a replication group has 1 to 6 nodes.");
  });

  it("refuses snapshot retention outside 0 to 35 days and an evicting policy", () => {
    expect(() => validateCacheArgs({ ...baseArgs("staging"), snapshotRetentionDays: 36 })).toThrow("Cache: snapshotRetentionDays is 36; use 0 (off) to 35.");
    const evicting = { ...baseArgs("staging"), maxmemoryPolicy: "allkeys-lru" } as unknown as CacheArgs;
    expect(() => validateCacheArgs(evicting)).toThrow(/maxmemoryPolicy "allkeys-lru" may evict replay-protection or rate-limit keys/);
  });

  it("names the parameter group family ElastiCache expects", () => {
    expect(cacheParameterGroupFamily("valkey", "8.0")).toBe("valkey8");
    expect(cacheParameterGroupFamily("valkey", "7.2")).toBe("valkey7");
    expect(cacheParameterGroupFamily("redis", "7.1")).toBe("redis7");
    expect(cacheParameterGroupFamily("redis", "6.2")).toBe("redis6.x");
  });
});

describe("Cache against a real Redis", () => {
  let server: RedisServer | undefined;
  const clients: Redis[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.quit().catch(() => c.disconnect())));
    await server?.stop();
    server = undefined;
  });
  const connect = (url: string) => {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    clients.push(client);
    return client;
  };
  // Locally there is no TLS: the same URL with the plain scheme reaches the throwaway server.
  const plain = (url: string) => url.replace(/^rediss:/, "redis:");

  it("authenticates with a REDIS_URL whose token uses every character ElastiCache allows", async () => {
    const token = `Ab1${AUTH_TOKEN_SPECIALS}xyz0123456789`;
    server = await startRedis({ password: token });
    const url = redisUrl("127.0.0.1", server.port, token);
    expect(url.startsWith("rediss://:")).toBe(true);
    const client = connect(plain(url));
    await client.connect();
    expect(await client.ping()).toBe("PONG");
    // Unencoded, "#" would start a URL fragment and cut the token and host off.
    expect(url).not.toContain("#");
    expect(decodeURIComponent(new URL(url).password)).toBe(token);
    expect(new URL(url).host).toBe(`127.0.0.1:${server.port}`);
  });

  /** Writes replay keys, then fills memory; returns how many replay keys survived and whether a write was refused. */
  async function replayKeysUnderPressure(policy: string): Promise<{ survived: number; refused: boolean }> {
    server = await startRedis({ maxmemoryPolicy: policy, maxmemory: "4mb" });
    const client = connect(server.url);
    await client.connect();
    for (let i = 0; i < 200; i += 1) await client.set(`webhook:replay:${i}`, "1", "EX", 86_400, "NX");
    const filler = "x".repeat(10_000);
    let refused = false;
    for (let i = 0; i < 1_000 && !refused; i += 1) {
      refused = await client.set(`ratelimit:bucket:${i}`, filler, "EX", 3_600).then(
        () => false,
        (error: Error) => {
          expect(error.message).toMatch(/^OOM command not allowed/);
          return true;
        },
      );
    }
    const present = await client.exists(...Array.from({ length: 200 }, (_, i) => `webhook:replay:${i}`));
    return { survived: present, refused };
  }

  it("noeviction keeps every replay key and refuses the write that would evict one", async () => {
    expect(await replayKeysUnderPressure("noeviction")).toEqual({ survived: 200, refused: true });
  });

  it("ElastiCache's default volatile-lru silently drops replay keys under the same pressure", async () => {
    const { survived, refused } = await replayKeysUnderPressure("volatile-lru");
    expect(refused).toBe(false);
    expect(survived).toBeLessThan(200);
  });
});
