import { randomUUID } from "node:crypto";
import { HEALTH_PATHS } from "../../runbook";
import { timed, type CheckResult } from "../lib/report";
import { checkLive, checkReady, checkRequestId, endpoint, get } from "../incident/http";
import { checkTls } from "./tls";

/**
 * "Run automated staging smoke checks": what must hold before regression tests and promotion.
 * TLS (verified, TLS 1.2+, certificate not about to expire), /health/live, /health/ready, an
 * X-Request-Id on responses, HSTS, each representative read path answering 2xx, and an unknown
 * path answering 404 rather than a 5xx. Read-only: the smoke never writes to staging.
 */

export interface SmokeOptions {
  baseUrl: string;
  /** Read-only paths that exercise the application (database and cache behind them). */
  readPaths: string[];
  timeoutMs: number;
  /** Accept an http:// base URL (local runs only); staging is always https. */
  allowHttp: boolean;
  /** Extra CA certificate (PEM) to trust for the TLS check. */
  ca?: string;
}

function checkReadPath(baseUrl: string, path: string, timeoutMs: number): Promise<CheckResult> {
  return timed(`GET ${path}`, async () => {
    const r = await get(endpoint(baseUrl, path), timeoutMs, { Accept: "application/json" });
    const id = r.headers.get("x-request-id");
    if (r.status >= 200 && r.status < 300) return { status: "pass", detail: `${r.status}, ${r.body.length} bytes${id ? `, X-Request-Id ${id}` : ""}` };
    return { status: "fail", detail: `${r.status} from a read path that must answer 2xx${id ? ` (X-Request-Id ${id}: look it up in the logs)` : ""}` };
  });
}

function checkUnknownPath(baseUrl: string, timeoutMs: number): Promise<CheckResult> {
  const path = `/smoke-not-found-${randomUUID()}`;
  return timed("GET an unknown path", async () => {
    const r = await get(endpoint(baseUrl, path), timeoutMs);
    if (r.status === 404) return { status: "pass", detail: `404 for ${path}` };
    if (r.status >= 500) return { status: "fail", detail: `${r.status} for ${path}: an unknown route must be a 404, not a server error` };
    return { status: "warn", detail: `${r.status} for ${path} (expected 404)` };
  });
}

function checkHsts(baseUrl: string, timeoutMs: number): Promise<CheckResult> {
  return timed("Strict-Transport-Security", async () => {
    const r = await get(endpoint(baseUrl, HEALTH_PATHS.live), timeoutMs);
    const hsts = r.headers.get("strict-transport-security");
    return hsts ? { status: "pass", detail: hsts } : { status: "warn", detail: "no Strict-Transport-Security header: browsers may be downgraded to http" };
  });
}

export async function runSmoke(options: SmokeOptions): Promise<CheckResult[]> {
  const { baseUrl, timeoutMs } = options;
  const https = new URL(baseUrl).protocol === "https:";
  const transport: Promise<CheckResult>[] = https
    ? [checkTls(baseUrl, timeoutMs, options.ca), checkHsts(baseUrl, timeoutMs)]
    : [
        Promise.resolve<CheckResult>(
          options.allowHttp
            ? { check: "TLS", status: "info", detail: "skipped: http:// base URL allowed by --allow-http (local runs only)" }
            : { check: "TLS", status: "fail", detail: `${baseUrl} is not https: staging is served over TLS only; pass https://<staging-host> (or --allow-http for a local run)` },
        ),
      ];
  const reads =
    options.readPaths.length > 0
      ? options.readPaths.map((p) => checkReadPath(baseUrl, p, timeoutMs))
      : [Promise.resolve<CheckResult>({ check: "read paths", status: "info", detail: "none given: pass --read-path (or SMOKE_READ_PATHS) to exercise the application beyond its health endpoints" })];
  return Promise.all([
    ...transport,
    checkLive(baseUrl, timeoutMs),
    checkReady(baseUrl, timeoutMs),
    checkRequestId(baseUrl, timeoutMs, "staging-smoke"),
    ...reads,
    checkUnknownPath(baseUrl, timeoutMs),
  ]);
}
