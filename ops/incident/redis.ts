import { Redis } from "ioredis";
import { CACHE_MEMORY_PRESSURE_PERCENT, REPLAY_SAFE_MAXMEMORY_POLICIES } from "../../runbook";
import type { CheckResult } from "../lib/report";
import { describeNetworkError, redactUrl, withDeadline } from "./errors";

/**
 * "Shared cache: Redis (webhook replay protection + distributed rate limiting)": PING, and the
 * settings that decide whether replay-protection and rate-limit keys can silently disappear.
 * Reads INFO, not CONFIG GET: ElastiCache disables the CONFIG command.
 */

/** `key:value` lines of INFO. */
function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(":");
    if (at > 0 && !line.startsWith("#")) fields[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return fields;
}

export function policyCheck(policy: string): CheckResult {
  if ((REPLAY_SAFE_MAXMEMORY_POLICIES as readonly string[]).includes(policy)) {
    return { check: "redis eviction policy", status: "pass", detail: `${policy}: replay-protection and rate-limit keys are never evicted (writes fail when memory is full)` };
  }
  return {
    check: "redis eviction policy",
    status: "fail",
    detail: `maxmemory-policy is ${policy}: Redis may evict webhook replay-protection and rate-limit keys; set cache.maxmemoryPolicy to ${REPLAY_SAFE_MAXMEMORY_POLICIES.join(" or ")} in the stack config`,
  };
}

function describeRedisError(error: unknown, target: string, timeoutMs: number): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(message)) {
    return `Redis at ${target} rejected the credentials in --redis-url (${message.split("\n")[0]})`;
  }
  if (/timed? ?out/i.test(message)) return `Redis at ${target} did not answer within ${timeoutMs} ms: it is overloaded, hung, or a firewall drops the traffic`;
  return describeNetworkError(error, "Redis", target, timeoutMs);
}

export async function checkRedis(redisUrl: string, timeoutMs: number): Promise<CheckResult[]> {
  const target = redactUrl(redisUrl);
  const started = performance.now();
  let lastError: unknown;
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    reconnectOnError: () => false,
  });
  redis.on("error", (error: unknown) => {
    lastError = error;
  });
  try {
    // connectTimeout ends at the TCP connect; the AUTH and ready check after it need their own deadline.
    await withDeadline(redis.connect(), timeoutMs);
    const pong = await redis.ping();
    const ping: CheckResult = { check: "redis PING", status: pong === "PONG" ? "pass" : "fail", detail: `${target} answered ${pong}`, durationMs: performance.now() - started };
    const info = parseInfo(`${await redis.info("memory")}\n${await redis.info("stats")}`);
    const policy = info.maxmemory_policy ?? "unknown";
    const evicted = Number(info.evicted_keys ?? "0");
    const used = Number(info.used_memory ?? "0");
    const max = Number(info.maxmemory ?? "0");
    const percent = max > 0 ? Math.round((1000 * used) / max) / 10 : undefined;
    return [
      ping,
      policyCheck(policy),
      evicted > 0
        ? { check: "redis evicted keys", status: "warn", detail: `${evicted} keys evicted since the server started: replay protection or rate limits may have lost keys` }
        : { check: "redis evicted keys", status: "pass", detail: "0 keys evicted since the server started" },
      percent === undefined
        ? { check: "redis memory", status: "info", detail: `${used} bytes used, no maxmemory limit set` }
        : {
            check: "redis memory",
            status: percent > CACHE_MEMORY_PRESSURE_PERCENT ? "warn" : "pass",
            detail: `${percent}% of maxmemory used (${used} of ${max} bytes); the ticket alarm fires above ${CACHE_MEMORY_PRESSURE_PERCENT}%`,
          },
    ];
  } catch (error) {
    // ioredis rejects with a generic "Connection is closed" when the socket failed; the socket's own error says why.
    const generic = error instanceof Error && /Connection is closed|Stream isn't writeable|offline queue/i.test(error.message);
    const detail = describeRedisError(generic && lastError ? lastError : error, target, timeoutMs);
    return [
      { check: "redis PING", status: "fail", detail, durationMs: performance.now() - started },
      { check: "redis eviction policy", status: "fail", detail: "not measured: Redis is unreachable" },
    ];
  } finally {
    redis.disconnect();
  }
}
