import { randomUUID } from "node:crypto";
import { HEALTH_PATHS, HEALTH_READY_MATCH } from "../../runbook";
import { timed, type CheckResult } from "../lib/report";
import { describeNetworkError, redactUrl } from "./errors";

/**
 * Incident step 1, "Confirm `/health/live` and `/health/ready`", and step 3's precondition: every
 * response carries an X-Request-Id to look the request up in the structured logs.
 */

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: string;
}

/** Answers longer than this are cut in messages. */
const SHOWN_BODY = 200;

/** A GET with a hard deadline covering connect, headers and body. */
export async function get(url: string, timeoutMs: number, headers: Record<string, string> = {}): Promise<HttpResponse> {
  const target = redactUrl(url);
  try {
    const response = await fetch(url, { headers, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    const body = await response.text();
    return { status: response.status, headers: response.headers, body };
  } catch (error) {
    throw new Error(describeNetworkError(error, "GET", target, timeoutMs), { cause: error });
  }
}

/** Joins a base URL and a path without doubling or dropping a slash. */
export function endpoint(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, "")}${path.startsWith("/") ? path : `/${path}`}`;
}

function shown(body: string): string {
  const flat = body.replace(/\s+/g, " ").trim();
  return flat.length > SHOWN_BODY ? `${flat.slice(0, SHOWN_BODY)}...` : flat || "(empty body)";
}

/**
 * An API's base URL given by the user (`--base-url`, `--api-url`): an absolute http(s) URL with a
 * host and nothing secret in it (no user:password@, no query or fragment, which may carry a token).
 * Returned without its trailing slashes.
 * @param source how the user gave it, named in the error (`--base-url`, `--api-url (or GITHUB_API_URL)`)
 * @param example a URL of the right form, quoted in the fix
 * @throws Error saying what is wrong, never quoting the value
 */
export function parseBaseUrl(value: string, source = "--base-url", example = "https://api.example.com"): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${source} is not a URL; pass the API's address, such as ${example}`);
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.hostname === "") {
    throw new Error(`${source} must be an http(s) URL with a host (got scheme "${url.protocol.replace(/:$/, "")}"); pass one such as ${example}`);
  }
  if (url.username || url.password) throw new Error(`${source} must not carry credentials (user:password@); secrets come from the environment`);
  if (url.search || url.hash) throw new Error(`${source} must not carry a query or fragment (it may hold a token); pass the API's address only, such as ${example}`);
  return value.replace(/\/+$/, "");
}

export function checkLive(baseUrl: string, timeoutMs: number): Promise<CheckResult> {
  return timed(`GET ${HEALTH_PATHS.live}`, async () => {
    const r = await get(endpoint(baseUrl, HEALTH_PATHS.live), timeoutMs);
    if (r.status === 200) return { status: "pass", detail: "200: the API process is up" };
    return { status: "fail", detail: `${r.status}: the API process is not live (${shown(r.body)}); check the pods and the latest deploy` };
  });
}

export function checkReady(baseUrl: string, timeoutMs: number): Promise<CheckResult> {
  return timed(`GET ${HEALTH_PATHS.ready}`, async () => {
    const r = await get(endpoint(baseUrl, HEALTH_PATHS.ready), timeoutMs);
    if (r.status === 200 && r.body.includes(HEALTH_READY_MATCH)) return { status: "pass", detail: `200 with ${HEALTH_READY_MATCH}` };
    if (r.status === 200) return { status: "fail", detail: `200 but the body lacks ${HEALTH_READY_MATCH} (${shown(r.body)}); Route 53 counts this as not ready` };
    return { status: "fail", detail: `${r.status}: not ready (${shown(r.body)}); a dependency (database, Redis) is failing` };
  });
}

/** Sends an X-Request-Id and expects one back; says whether the API echoed the caller's. */
export function checkRequestId(baseUrl: string, timeoutMs: number, label: string): Promise<CheckResult> {
  return timed("X-Request-Id on responses", async () => {
    const sent = `${label}-${randomUUID()}`;
    const r = await get(endpoint(baseUrl, HEALTH_PATHS.live), timeoutMs, { "X-Request-Id": sent });
    const received = r.headers.get("x-request-id");
    if (!received) {
      return { status: "fail", detail: `GET ${HEALTH_PATHS.live} answered without an X-Request-Id header: requests cannot be followed through the logs (incident step 3)` };
    }
    return received === sent
      ? { status: "pass", detail: `echoed the caller's id ${sent}` }
      : { status: "pass", detail: `generated ${received} (the caller's ${sent} was not echoed)` };
  });
}
