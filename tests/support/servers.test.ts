import Redis from "ioredis";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMBEDDED_POSTGRES_MAJOR, startPostgres, type PostgresServer } from "./postgres";
import { startRedis, type RedisServer } from "./redis";
import { readStackFile } from "./harness";

describe("throwaway servers are real", () => {
  let pg: PostgresServer;
  let redis: RedisServer;
  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis({ password: "s3cret-token" })]);
  });
  afterAll(async () => {
    await Promise.all([pg?.stop(), redis?.stop()]);
  });

  it("embedded PostgreSQL answers with the RDS engine's major version", async () => {
    const client = new Client({ connectionString: pg.url() });
    await client.connect();
    try {
      const { rows } = await client.query<{ server_version_num: string }>("SHOW server_version_num");
      expect(Math.floor(Number(rows[0]?.server_version_num) / 10000)).toBe(EMBEDDED_POSTGRES_MAJOR);
    } finally {
      await client.end();
    }
    for (const stack of ["staging", "production"] as const) {
      const database = readStackFile(stack)["runbook-platform:database"] as { engineVersion: string };
      expect(database.engineVersion).toBe(String(EMBEDDED_POSTGRES_MAJOR));
    }
  });

  it("redis-server answers PING and enforces AUTH", async () => {
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    await client.connect();
    try {
      expect(await client.ping()).toBe("PONG");
      expect(await client.info("server")).toMatch(/redis_version:\d+\.\d+/);
    } finally {
      client.disconnect();
    }
    const anonymous = new Redis(`redis://127.0.0.1:${redis.port}`, { lazyConnect: true, maxRetriesPerRequest: 0, enableReadyCheck: false });
    await anonymous.connect();
    try {
      await expect(anonymous.ping()).rejects.toThrow(/NOAUTH/);
    } finally {
      anonymous.disconnect();
    }
  });
});
