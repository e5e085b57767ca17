import { Client } from "pg";
import { DB_CONNECTION_SATURATION_PERCENT } from "../../runbook";
import type { CheckResult } from "../lib/report";
import { describeNetworkError, errorCode, redactUrl } from "./errors";

/**
 * Incident step 4, "Verify database status and connection pool saturation": connect, query, and
 * count client connections against max_connections, failing at the alarm's threshold.
 */

interface Saturation {
  used: number;
  max: number;
  percent: number;
}

/** Client backends (not autovacuum or replication workers) against max_connections. */
const SATURATION_SQL = `
SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS used,
       current_setting('max_connections')::int AS max`;

function saturationOf(used: number, max: number): Saturation {
  return { used, max, percent: Math.round((1000 * used) / max) / 10 };
}

function describePgError(error: unknown, target: string, timeoutMs: number): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code === "28P01" || code === "28000") return `PostgreSQL at ${target} rejected the credentials in --database-url (${message})`;
  if (code === "53300") return `PostgreSQL at ${target} refused a new connection: ${message} (connections are saturated: max_connections reached)`;
  if (code === "3D000") return `PostgreSQL at ${target}: ${message}; check the database name in --database-url`;
  if (code === "57014" || /timeout/i.test(message)) return `PostgreSQL at ${target} did not answer within ${timeoutMs} ms: it is overloaded, hung, or a firewall drops the traffic`;
  return describeNetworkError(error, "PostgreSQL", target, timeoutMs);
}

/** Two rows: reachability (a round trip) and connection saturation. */
export async function checkDatabase(databaseUrl: string, timeoutMs: number): Promise<CheckResult[]> {
  const target = redactUrl(databaseUrl);
  const started = performance.now();
  const client = new Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    statement_timeout: timeoutMs,
    application_name: "ops-incident-check",
  });
  // A server that drops the socket later emits 'error'; without a listener that would crash the command.
  client.on("error", () => undefined);
  try {
    await client.connect();
    const version = await client.query<{ server_version: string }>("SHOW server_version");
    const reachable: CheckResult = {
      check: "database reachable",
      status: "pass",
      detail: `${target}: PostgreSQL ${version.rows[0]?.server_version ?? "?"} answered`,
      durationMs: performance.now() - started,
    };
    const satStarted = performance.now();
    const row = (await client.query<{ used: number; max: number }>(SATURATION_SQL)).rows[0];
    if (!row) throw new Error("pg_stat_activity returned no row");
    const s = saturationOf(row.used, row.max);
    const saturated = s.percent >= DB_CONNECTION_SATURATION_PERCENT;
    return [
      reachable,
      {
        check: "database connection saturation",
        status: saturated ? "fail" : "pass",
        detail: saturated
          ? `${s.used} of ${s.max} connections (${s.percent}%), at or above ${DB_CONNECTION_SATURATION_PERCENT}%: find the pool that grew (pg_stat_activity by application_name) before new connections are refused`
          : `${s.used} of ${s.max} connections (${s.percent}%), below ${DB_CONNECTION_SATURATION_PERCENT}%`,
        durationMs: performance.now() - satStarted,
      },
    ];
  } catch (error) {
    const detail = describePgError(error, target, timeoutMs);
    const durationMs = performance.now() - started;
    return [
      { check: "database reachable", status: "fail", detail, durationMs },
      { check: "database connection saturation", status: "fail", detail: errorCode(error) === "53300" ? detail : "not measured: the database is unreachable" },
    ];
  } finally {
    await client.end().catch(() => undefined);
  }
}
