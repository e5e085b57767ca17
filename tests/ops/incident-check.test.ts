import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderTable, type CheckResult } from "../../ops/lib/report";
import { checkLive, checkReady, checkRequestId } from "../../ops/incident/http";
import { runIncidentCheck } from "../../ops/incident/index";
import { checkDatabase } from "../../ops/incident/postgres";
import { checkRedis, policyCheck } from "../../ops/incident/redis";
import { checkStorage } from "../../ops/incident/storage";
import { DB_CONNECTION_SATURATION_PERCENT } from "../../runbook";
import { freePort } from "../support/ports";
import { startPostgres, type PostgresServer } from "../support/postgres";
import { startRedis, type RedisServer } from "../support/redis";
import { ROOT } from "../support/harness";

const TIMEOUT_MS = 800;
const REDIS_PASSWORD = "incident-check-password";

type Mode = "healthy" | "not-ready" | "slow" | "no-request-id" | "ready-wrong-body";

/** The API stand-in: /health/live, /health/ready and X-Request-Id, behaving as `mode` says. */
class FakeApi {
  mode: Mode = "healthy";
  server: HttpServer = createHttpServer((req, res) => {
    const id = req.headers["x-request-id"];
    if (this.mode !== "no-request-id") res.setHeader("X-Request-Id", typeof id === "string" ? id : "generated-by-api");
    const answer = () => {
      if (req.url === "/health/live") return res.writeHead(200, { "content-type": "application/json" }).end('{"status":"live"}');
      if (req.url === "/health/ready") {
        if (this.mode === "not-ready") return res.writeHead(503, { "content-type": "application/json" }).end('{"status":"not_ready","database":"unreachable"}');
        if (this.mode === "ready-wrong-body") return res.writeHead(200).end("OK");
        return res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ready"}');
      }
      return res.writeHead(404).end();
    };
    if (this.mode === "slow") setTimeout(answer, TIMEOUT_MS * 3);
    else answer();
  });
  url = "";
  async start(): Promise<void> {
    const port = await freePort();
    await new Promise<void>((resolve) => this.server.listen(port, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${port}`;
  }
  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Accepts TCP connections and never answers: a hung server or a black-holing firewall. */
async function startBlackHole(): Promise<{ port: number; server: TcpServer; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createTcpServer((socket) => sockets.push(socket));
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { port, server, sockets };
}

function row(results: CheckResult[], check: string): CheckResult {
  const found = results.find((r) => r.check === check);
  if (!found) throw new Error(`no row "${check}" in ${results.map((r) => r.check).join(", ")}`);
  return found;
}

let api: FakeApi;
let postgres: PostgresServer;
let redis: RedisServer;
let lruRedis: RedisServer;
let s3: S3rver;
let s3Dir: string;
let s3Endpoint: string;
let blackHole: Awaited<ReturnType<typeof startBlackHole>>;
let downPort: number;

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = "S3RVER";
  process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
  api = new FakeApi();
  s3Dir = await mkdtemp(path.join(tmpdir(), "runbook-s3rver-"));
  const s3Port = await freePort();
  s3 = new S3rver({ port: s3Port, address: "127.0.0.1", silent: true, directory: s3Dir, configureBuckets: [{ name: "uploads", configs: [] }] });
  s3Endpoint = `http://127.0.0.1:${s3Port}`;
  [postgres, redis, lruRedis, blackHole, downPort] = await Promise.all([
    startPostgres({ postgresFlags: ["-c", "max_connections=20"] }),
    startRedis({ password: REDIS_PASSWORD, maxmemoryPolicy: "noeviction", maxmemory: "64mb" }),
    startRedis({ maxmemoryPolicy: "allkeys-lru" }),
    startBlackHole(),
    freePort(),
    api.start(),
    s3.run(),
  ]);
});

afterAll(async () => {
  for (const socket of blackHole?.sockets ?? []) socket.destroy();
  await Promise.all([api?.stop(), postgres?.stop(), redis?.stop(), lruRedis?.stop(), s3?.close(), new Promise((r) => blackHole?.server.close(r))]);
  await rm(s3Dir, { recursive: true, force: true });
});

describe("health endpoints and X-Request-Id", () => {
  it("passes a healthy API and reports the echoed request id", async () => {
    api.mode = "healthy";
    expect((await checkLive(api.url, TIMEOUT_MS)).status).toBe("pass");
    expect(await checkReady(api.url, TIMEOUT_MS)).toMatchObject({ status: "pass", detail: '200 with "status":"ready"' });
    expect((await checkRequestId(api.url, TIMEOUT_MS, "incident-check")).detail).toMatch(/^echoed the caller's id incident-check-[0-9a-f-]{36}$/);
  });

  it("fails a 503 ready with the body that says why", async () => {
    api.mode = "not-ready";
    expect(await checkReady(api.url, TIMEOUT_MS)).toMatchObject({
      status: "fail",
      detail: '503: not ready ({"status":"not_ready","database":"unreachable"}); a dependency (database, Redis) is failing',
    });
  });

  it("fails a 200 ready without the ready body, as Route 53 would", async () => {
    api.mode = "ready-wrong-body";
    expect(await checkReady(api.url, TIMEOUT_MS)).toMatchObject({ status: "fail", detail: '200 but the body lacks "status":"ready" (OK); Route 53 counts this as not ready' });
  });

  it("fails responses without X-Request-Id", async () => {
    api.mode = "no-request-id";
    expect(await checkRequestId(api.url, TIMEOUT_MS, "incident-check")).toMatchObject({
      status: "fail",
      detail: "GET /health/live answered without an X-Request-Id header: requests cannot be followed through the logs (incident step 3)",
    });
  });

  it("fails a slow API at the deadline", async () => {
    api.mode = "slow";
    expect(await checkLive(api.url, TIMEOUT_MS)).toMatchObject({
      status: "fail",
      detail: `GET at ${api.url}/health/live did not answer within ${TIMEOUT_MS} ms: it is overloaded, hung, or a firewall drops the traffic`,
    });
  });

  it("fails an API that is down", async () => {
    expect(await checkLive(`http://127.0.0.1:${downPort}`, TIMEOUT_MS)).toMatchObject({
      status: "fail",
      detail: `GET at http://127.0.0.1:${downPort}/health/live refused the connection (ECONNREFUSED): is it running, and is the URL's host and port right?`,
    });
  });
});

describe("database", () => {
  it("passes a reachable database below the saturation threshold", async () => {
    const results = await checkDatabase(postgres.url(), TIMEOUT_MS);
    expect(row(results, "database reachable").status).toBe("pass");
    expect(row(results, "database reachable").detail).toMatch(new RegExp(`^postgresql://127\\.0\\.0\\.1:${postgres.port}/postgres: PostgreSQL 16\\.\\d+ answered$`));
    expect(row(results, "database connection saturation")).toMatchObject({ status: "pass", detail: `1 of 20 connections (5%), below ${DB_CONNECTION_SATURATION_PERCENT}%` });
  });

  it("fails at the saturation threshold with real connections", async () => {
    const max = 20;
    const target = Math.ceil((max * DB_CONNECTION_SATURATION_PERCENT) / 100);
    const held: Client[] = [];
    try {
      // The check's own connection is the last one counted.
      for (let i = 0; i < target - 1; i += 1) {
        const c = new Client({ connectionString: postgres.url() });
        await c.connect();
        held.push(c);
      }
      const results = await checkDatabase(postgres.url(), TIMEOUT_MS);
      expect(row(results, "database connection saturation")).toMatchObject({
        status: "fail",
        detail: `${target} of ${max} connections (${DB_CONNECTION_SATURATION_PERCENT}%), at or above ${DB_CONNECTION_SATURATION_PERCENT}%: find the pool that grew (pg_stat_activity by application_name) before new connections are refused`,
      });
      held.pop()?.end();
      await new Promise((r) => setTimeout(r, 200));
      const below = await checkDatabase(postgres.url(), TIMEOUT_MS);
      expect(row(below, "database connection saturation")).toMatchObject({ status: "pass", detail: `${target - 1} of ${max} connections (75%), below ${DB_CONNECTION_SATURATION_PERCENT}%` });
    } finally {
      await Promise.all(held.map((c) => c.end()));
    }
  });

  it("says so when max_connections is exhausted", async () => {
    const held: Client[] = [];
    try {
      for (;;) {
        const c = new Client({ connectionString: postgres.url() });
        try {
          await c.connect();
          held.push(c);
        } catch {
          break;
        }
      }
      const results = await checkDatabase(postgres.url(), TIMEOUT_MS);
      expect(row(results, "database reachable").status).toBe("fail");
      expect(row(results, "database reachable").detail).toMatch(/refused a new connection: sorry, too many clients already \(connections are saturated: max_connections reached\)$/);
      expect(row(results, "database connection saturation").status).toBe("fail");
    } finally {
      await Promise.all(held.map((c) => c.end()));
    }
  });

  it("names --database-url on wrong credentials, without printing the password", async () => {
    const wrong = postgres.url().replace(encodeURIComponent(postgres.password), "not-the-password");
    const results = await checkDatabase(wrong, TIMEOUT_MS);
    expect(row(results, "database reachable")).toMatchObject({
      status: "fail",
      detail: `PostgreSQL at postgresql://127.0.0.1:${postgres.port}/postgres rejected the credentials in --database-url (password authentication failed for user "postgres")`,
    });
    expect(JSON.stringify(results)).not.toContain("not-the-password");
  });

  it("fails a hung database at the deadline", async () => {
    const results = await checkDatabase(`postgresql://u:p@127.0.0.1:${blackHole.port}/db`, TIMEOUT_MS);
    expect(row(results, "database reachable")).toMatchObject({
      status: "fail",
      detail: `PostgreSQL at postgresql://127.0.0.1:${blackHole.port}/db did not answer within ${TIMEOUT_MS} ms: it is overloaded, hung, or a firewall drops the traffic`,
    });
  });

  it("fails a database that is down", async () => {
    const results = await checkDatabase(`postgresql://u:p@127.0.0.1:${downPort}/db`, TIMEOUT_MS);
    expect(row(results, "database reachable").detail).toBe(`PostgreSQL at postgresql://127.0.0.1:${downPort}/db refused the connection (ECONNREFUSED): is it running, and is the URL's host and port right?`);
  });
});

describe("redis", () => {
  it("passes PING, noeviction, no evictions and memory use", async () => {
    const results = await checkRedis(redis.url, TIMEOUT_MS);
    expect(results.map((r) => [r.check, r.status])).toEqual([
      ["redis PING", "pass"],
      ["redis eviction policy", "pass"],
      ["redis evicted keys", "pass"],
      ["redis memory", "pass"],
    ]);
    expect(row(results, "redis memory").detail).toMatch(/^\d+(\.\d)?% of maxmemory used \(\d+ of 67108864 bytes\); the ticket alarm fires above 80%$/);
  });

  it("fails a policy that evicts replay-protection and rate-limit keys", async () => {
    const results = await checkRedis(lruRedis.url, TIMEOUT_MS);
    expect(row(results, "redis eviction policy")).toEqual({
      check: "redis eviction policy",
      status: "fail",
      detail: "maxmemory-policy is allkeys-lru: Redis may evict webhook replay-protection and rate-limit keys; set cache.maxmemoryPolicy to noeviction in the stack config",
    });
    expect(row(results, "redis memory")).toMatchObject({ status: "info" });
  });

  it("fails volatile-ttl, which the cache config and the policy pack refuse too: it evicts exactly the keys with a TTL", () => {
    expect(policyCheck("volatile-ttl")).toMatchObject({ status: "fail" });
  });

  it("names --redis-url on wrong credentials, without printing the password", async () => {
    const results = await checkRedis(`redis://:wrong-password@127.0.0.1:${redis.port}`, TIMEOUT_MS);
    expect(row(results, "redis PING").status).toBe("fail");
    expect(row(results, "redis PING").detail).toMatch(new RegExp(`^Redis at redis://127.0.0.1:${redis.port} rejected the credentials in --redis-url \\(WRONGPASS`));
    expect(JSON.stringify(results)).not.toContain("wrong-password");
  });

  it("fails a hung Redis at the deadline", async () => {
    const results = await checkRedis(`redis://127.0.0.1:${blackHole.port}`, TIMEOUT_MS);
    expect(row(results, "redis PING")).toMatchObject({
      status: "fail",
      detail: `Redis at redis://127.0.0.1:${blackHole.port} did not answer within ${TIMEOUT_MS} ms: it is overloaded, hung, or a firewall drops the traffic`,
    });
  });

  it("fails a Redis that is down", async () => {
    const results = await checkRedis(`redis://127.0.0.1:${downPort}`, TIMEOUT_MS);
    expect(row(results, "redis PING").detail).toBe(`Redis at redis://127.0.0.1:${downPort} refused the connection (ECONNREFUSED): is it running, and is the URL's host and port right?`);
  });
});

describe("object storage", () => {
  const options = () => ({ bucket: "uploads", endpoint: s3Endpoint, region: "us-east-1", timeoutMs: TIMEOUT_MS * 5 });

  it("writes, reads back and deletes a canary", async () => {
    const results = await checkStorage(options());
    expect(results.map((r) => [r.check, r.status])).toEqual([
      ["object storage write", "pass"],
      ["object storage read", "pass"],
      ["object storage delete", "pass"],
    ]);
    expect(row(results, "object storage write").detail).toMatch(/^wrote s3:\/\/uploads\/ops\/incident-check\/canary-/);
  });

  it("without --region or AWS_REGION, names the two ways to give the bucket's region", async () => {
    const { region: _default, ...withoutRegion } = options();
    const saved = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION, AWS_CONFIG_FILE: process.env.AWS_CONFIG_FILE };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    process.env.AWS_CONFIG_FILE = path.join(tmpdir(), "no-aws-config-here");
    try {
      const [write] = await checkStorage(withoutRegion);
      expect(write).toMatchObject({ status: "fail", detail: "no AWS region for the bucket: pass --region (the stack's aws:region) or set AWS_REGION" });
    } finally {
      for (const [key, value] of Object.entries(saved)) if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it("names --bucket when the bucket does not exist", async () => {
    const results = await checkStorage({ ...options(), bucket: "no-such-bucket" });
    expect(results).toEqual([
      expect.objectContaining({ check: "object storage write", status: "fail", detail: `bucket "no-such-bucket" does not exist at ${s3Endpoint}: check --bucket (the stack output uploadsBucketName)` }),
      { check: "object storage read", status: "skip", detail: "not run: the canary could not be written" },
      { check: "object storage delete", status: "skip", detail: "not run: the canary could not be written" },
    ]);
    expect(renderTable(results).split("\n").at(-1)).toBe("3 checks: 0 without failure, 1 failed, 2 not checked (incomplete)");
  });

  it("fails on wrong credentials with the variables to fix", async () => {
    const saved = process.env.AWS_ACCESS_KEY_ID;
    process.env.AWS_ACCESS_KEY_ID = "WRONGKEY";
    try {
      const results = await checkStorage(options());
      expect(row(results, "object storage write")).toMatchObject({
        status: "fail",
        detail: `object storage at ${s3Endpoint} rejected the credentials (InvalidAccessKeyId): check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE`,
      });
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved;
    }
  });

  it("fails a hung endpoint at the deadline", async () => {
    const results = await checkStorage({ ...options(), endpoint: `http://127.0.0.1:${blackHole.port}`, timeoutMs: TIMEOUT_MS });
    expect(row(results, "object storage write")).toMatchObject({ status: "fail", detail: `object storage at http://127.0.0.1:${blackHole.port} did not answer within ${TIMEOUT_MS} ms` });
  });

  it("fails an endpoint that is down", async () => {
    const results = await checkStorage({ ...options(), endpoint: `http://127.0.0.1:${downPort}` });
    expect(row(results, "object storage write").detail).toBe(`object storage at http://127.0.0.1:${downPort} refused the connection (ECONNREFUSED): is it running, and is the URL's host and port right?`);
  });
});

describe("npm run ops:incident-check", () => {
  /** Runs the CLI as npm would, asynchronously: the servers it checks live in this process. */
  function cli(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), "ops/incident/cli.ts", ...args], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: "", REDIS_URL: "", ...env },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
  }

  it("runs every step, prints JSON, and exits 0 when all pass", async () => {
    api.mode = "healthy";
    const run = await cli(["--base-url", api.url, "--bucket", "uploads", "--s3-endpoint", s3Endpoint, "--region", "eu-west-1", "--json"], { DATABASE_URL: postgres.url(), REDIS_URL: redis.url });
    expect(run.status, run.stdout).toBe(0);
    const report = JSON.parse(run.stdout) as { results: CheckResult[]; exitCode: number };
    expect(report.results.map((r) => r.check)).toEqual([
      "GET /health/live",
      "GET /health/ready",
      "X-Request-Id on responses",
      "database reachable",
      "database connection saturation",
      "redis PING",
      "redis eviction policy",
      "redis evicted keys",
      "redis memory",
      "object storage write",
      "object storage read",
      "object storage delete",
    ]);
    expect(report.results.filter((r) => r.status === "fail")).toEqual([]);
    expect(run.stdout).not.toContain(postgres.password);
    expect(run.stdout).not.toContain(REDIS_PASSWORD);
  });

  it("prints a table and exits 1 when a check fails", async () => {
    api.mode = "not-ready";
    const run = await cli(["--base-url", api.url]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(`Incident check: ${api.url}`);
    expect(run.stdout).toMatch(/FAIL\s+│ GET \/health\/ready/);
    expect(run.stdout).toContain("skipped: pass --database-url (or DATABASE_URL) to check it");
  });

  it("exits 2 with the fix on a bad --base-url", async () => {
    const run = await cli(["--base-url", "api.example.com"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe("ops:incident-check: --base-url is not a URL; pass the API's address, such as https://api.example.com\n");
  });

  it("refuses credentials or a query in --base-url without ever printing them, exit 2, also under --json", async () => {
    for (const [url, reason] of [
      ["https://user:s3cr3tPW@api.example.com", "--base-url must not carry credentials (user:password@); secrets come from the environment"],
      ["https://api.example.com/?token=s3cr3tPW", "--base-url must not carry a query or fragment (it may hold a token); pass the API's address only, such as https://api.example.com"],
    ]) {
      const run = await cli(["--base-url", url as string, "--json"]);
      expect(run.status).toBe(2);
      expect(JSON.parse(run.stdout)).toEqual({ command: "ops:incident-check", exitCode: 2, error: reason });
      expect(`${run.stdout}${run.stderr}`).not.toContain("s3cr3tPW");
    }
  });
});

describe("runIncidentCheck", () => {
  it("skips targets that were not given, as info rows", async () => {
    api.mode = "healthy";
    const results = await runIncidentCheck({ baseUrl: api.url, region: "us-east-1", timeoutMs: TIMEOUT_MS });
    expect(results.slice(3)).toEqual([
      { check: "database", status: "info", detail: "skipped: pass --database-url (or DATABASE_URL) to check it" },
      { check: "redis", status: "info", detail: "skipped: pass --redis-url (or REDIS_URL) to check it" },
      { check: "object storage", status: "info", detail: "skipped: pass --bucket to check it" },
    ]);
  });
});
