import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { CheckResult } from "../../ops/lib/report";
import { runSmoke } from "../../ops/smoke/index";
import { checkTls } from "../../ops/smoke/tls";
import { ROOT } from "../support/harness";
import { freePort } from "../support/ports";

const TIMEOUT_MS = 2000;

/** The API stand-in: health endpoints, one read path, 404 elsewhere; `broken` makes reads 500. */
const state = { broken: false };
function app(req: IncomingMessage, res: ServerResponse): void {
  const id = req.headers["x-request-id"];
  res.setHeader("X-Request-Id", typeof id === "string" ? id : "generated-by-api");
  res.setHeader("Strict-Transport-Security", "max-age=31536000");
  if (req.url === "/health/live") return void res.writeHead(200).end('{"status":"live"}');
  if (req.url === "/health/ready") return void res.writeHead(200).end('{"status":"ready"}');
  if (req.url === "/api/items") return void (state.broken ? res.writeHead(500).end("boom") : res.writeHead(200, { "content-type": "application/json" }).end("[]"));
  if (state.broken) return void res.writeHead(500).end("boom");
  res.writeHead(404).end();
}

/** A self-signed certificate for 127.0.0.1 valid `days` days (openssl, as any CA would issue it). */
function certificate(dir: string, name: string, days: number): { key: string; cert: string } {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.pem`);
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", String(days), "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], { stdio: "ignore" });
  return { key, cert };
}

async function listen<T extends HttpServer | HttpsServer>(server: T): Promise<number> {
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return port;
}

let dir: string;
let https: HttpsServer;
let shortLived: HttpsServer;
let http: HttpServer;
let httpsUrl: string;
let shortLivedUrl: string;
let httpUrl: string;
let caPem: string;
let caFile: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "runbook-smoke-"));
  const long = certificate(dir, "long", 365);
  const short = certificate(dir, "short", 3);
  caFile = long.cert;
  caPem = await readFile(long.cert, "utf8");
  https = createHttpsServer({ key: await readFile(long.key), cert: caPem }, app);
  shortLived = createHttpsServer({ key: await readFile(short.key), cert: await readFile(short.cert) }, app);
  http = createHttpServer(app);
  httpsUrl = `https://127.0.0.1:${await listen(https)}`;
  shortLivedUrl = `https://127.0.0.1:${await listen(shortLived)}`;
  httpUrl = `http://127.0.0.1:${await listen(http)}`;
});

afterAll(async () => {
  for (const server of [https, shortLived, http]) {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  }
  await rm(dir, { recursive: true, force: true });
});

describe("TLS", () => {
  it("passes a trusted certificate with its remaining days", async () => {
    const result = await checkTls(httpsUrl, TIMEOUT_MS, caPem);
    expect(result.status).toBe("pass");
    expect(result.detail).toMatch(/^TLSv1\.3, certificate for 127\.0\.0\.1 valid 364 more days \(until .+\)$/);
  });

  it("fails a certificate no trusted CA signed", async () => {
    const result = await checkTls(httpsUrl, TIMEOUT_MS);
    expect(result).toMatchObject({
      status: "fail",
      detail: `TLS handshake at ${httpsUrl.slice("https://".length)}: TLS certificate rejected (DEPTH_ZERO_SELF_SIGNED_CERT); the certificate must be valid for the host and chain to a trusted CA`,
    });
  });

  it("fails a certificate about to expire", async () => {
    const result = await checkTls(shortLivedUrl, TIMEOUT_MS, await readFile(path.join(dir, "short.pem"), "utf8"));
    expect(result.status).toBe("fail");
    expect(result.detail).toMatch(/valid 2 more days \(until .+\): renewal is not happening$/);
  });
});

describe("runSmoke", () => {
  it("passes a healthy API over http when allowed, with the read path and a 404", async () => {
    state.broken = false;
    const results = await runSmoke({ baseUrl: httpUrl, readPaths: ["/api/items"], timeoutMs: TIMEOUT_MS, allowHttp: true });
    expect(results.map((r) => [r.check, r.status])).toEqual([
      ["TLS", "info"],
      ["GET /health/live", "pass"],
      ["GET /health/ready", "pass"],
      ["X-Request-Id on responses", "pass"],
      ["GET /api/items", "pass"],
      ["GET an unknown path", "pass"],
    ]);
  });

  it("fails an http base URL unless --allow-http", async () => {
    const results = await runSmoke({ baseUrl: httpUrl, readPaths: [], timeoutMs: TIMEOUT_MS, allowHttp: false });
    expect(results[0]).toEqual({ check: "TLS", status: "fail", detail: `${httpUrl} is not https: staging is served over TLS only; pass https://<staging-host> (or --allow-http for a local run)` });
    expect(results.find((r) => r.check === "read paths")?.status).toBe("info");
  });

  it("fails a read path and an unknown path that answer 500", async () => {
    state.broken = true;
    try {
      const results = await runSmoke({ baseUrl: httpUrl, readPaths: ["/api/items"], timeoutMs: TIMEOUT_MS, allowHttp: true });
      const byCheck = (check: string) => results.find((r) => r.check === check) as CheckResult;
      expect(byCheck("GET /api/items").detail).toBe("500 from a read path that must answer 2xx (X-Request-Id generated-by-api: look it up in the logs)");
      expect(byCheck("GET an unknown path").detail).toMatch(/^500 for \/smoke-not-found-[0-9a-f-]{36}: an unknown route must be a 404, not a server error$/);
    } finally {
      state.broken = false;
    }
  });
});

describe("npm run ops:staging-smoke", () => {
  function cli(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), "ops/smoke/cli.ts", ...args], { cwd: ROOT, env: { ...process.env, SMOKE_READ_PATHS: "", ...env } });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
  }

  it("passes staging over https and exits 0 (the runbook's exact command form)", async () => {
    const run = await cli([`--base-url=${httpsUrl}`, "--json"], { NODE_EXTRA_CA_CERTS: caFile, SMOKE_READ_PATHS: "/api/items" });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { results: CheckResult[] };
    expect(report.results.map((r) => [r.check, r.status])).toEqual([
      ["TLS", "pass"],
      ["Strict-Transport-Security", "pass"],
      ["GET /health/live", "pass"],
      ["GET /health/ready", "pass"],
      ["X-Request-Id on responses", "pass"],
      ["GET /api/items", "pass"],
      ["GET an unknown path", "pass"],
    ]);
  });

  it("exits 1 with a table when staging's certificate is not trusted", async () => {
    const run = await cli([`--base-url=${httpsUrl}`]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(`Staging smoke: ${httpsUrl}`);
    expect(run.stdout).toContain("DEPTH_ZERO_SELF_SIGNED_CERT");
  });

  it("exits 2 when --base-url is missing", async () => {
    const run = await cli([]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe("ops:staging-smoke: --base-url is required, such as --base-url=https://staging.example.com\n");
  });
});

describe(".github/workflows/staging-smoke.yml", () => {
  it("is a valid workflow that runs npm ci, then the runbook's command with the STAGING_BASE_URL secret", async () => {
    const text = await readFile(path.join(ROOT, ".github/workflows/staging-smoke.yml"), "utf8");
    expect(validateWorkflow(text).errors).toEqual([]);
    const workflow = parseYaml(text) as {
      on: Record<string, { types?: string[] } | null>;
      permissions: Record<string, string>;
      jobs: { smoke: { steps: { run?: string; env?: Record<string, string> }[] } };
    };
    expect(Object.keys(workflow.on)).toEqual(["workflow_dispatch", "repository_dispatch"]);
    expect(workflow.on.repository_dispatch?.types).toEqual(["staging-deployed"]);
    // id-token: AWS credentials by OIDC for the smoke record production's preview checks (README, Same-artifact promotion).
    expect(workflow.permissions).toEqual({ contents: "read", "id-token": "write" });
    const runs = workflow.jobs.smoke.steps.map((s) => s.run ?? "");
    const ci = runs.findIndex((r) => r.trim() === "npm ci");
    const smoke = runs.findIndex((r) => r.includes('npm run --silent ops:staging-smoke -- --base-url="$STAGING_BASE_URL"'));
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(smoke).toBeGreaterThan(ci);
    expect(workflow.jobs.smoke.steps[smoke]?.env?.STAGING_BASE_URL).toBe("${{ secrets.STAGING_BASE_URL }}");
    const scripts = (JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts["ops:staging-smoke"]).toBe("tsx ops/smoke/cli.ts");
    expect(scripts["ops:incident-check"]).toBe("tsx ops/incident/cli.ts");
  });
});
