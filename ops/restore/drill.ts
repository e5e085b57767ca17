import { Client, type ClientConfig } from "pg";
import type { CheckResult } from "../lib/report";
import { validateIntegrity, type IntegrityOptions, type IntegrityProgress } from "../integrity";
import { DrillError, type DrillRecord, type RestoreBackend, type RestoreMode, type RestoredDatabase } from "./types";

/**
 * The weekly drill (RUNBOOK.md, Backup and restore drill, steps 3-7): restore the latest snapshot
 * into a temporary database, run the readiness and integrity checks against it, record the RTO and
 * notes, and always delete the temporary database: on success, on failure and on SIGINT/SIGTERM.
 * The source is only ever described; nothing writes to it.
 */

export type DrillStep = "find" | "restore" | "available" | "readiness" | "integrity" | "cleanup";

export interface DrillOptions {
  backend: RestoreBackend;
  mode: RestoreMode;
  /** The ISO week this drill belongs to. */
  window: string;
  /** Name of the temporary database (an RDS identifier or a local database name). */
  temporaryId: string;
  integrity: Omit<IntegrityOptions, "connection" | "onProgress">;
  /** @default "_prisma_migrations" */
  migrationsTable?: string;
  /** Readiness keeps retrying the first connection this long (new endpoints and passwords take a moment). @default 300000 */
  readinessTimeoutMs?: number;
  onStep?: (step: DrillStep, state: "start" | "done", detail?: string) => void;
  onIntegrityProgress?: (event: IntegrityProgress) => void;
  /** Delete the temporary database when the process is interrupted, then exit. @default true */
  handleSignals?: boolean;
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;

/** "Run app readiness checks against restored DB": connect, SELECT 1, migrations applied. */
export async function readiness(connection: ClientConfig, migrationsTable: string, timeoutMs: number): Promise<CheckResult[]> {
  const deadline = Date.now() + timeoutMs;
  const started = performance.now();
  let client: Client;
  for (let attempt = 1; ; attempt++) {
    client = new Client({ connectionTimeoutMillis: 10_000, ...connection, application_name: "runbook-drill-readiness" });
    client.on("error", () => undefined);
    try {
      await client.connect();
      break;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (Date.now() >= deadline) {
        throw new Error(`readiness: cannot connect to the restored database after ${attempt} attempts in ${Math.round(timeoutMs / 1000)} s: ${(error as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * attempt)));
    }
  }
  const results: CheckResult[] = [{ check: "readiness: connect", status: "pass", detail: "connected", durationMs: performance.now() - started }];
  try {
    await client.query("BEGIN READ ONLY");
    const one = await client.query<{ one: number }>("SELECT 1 AS one");
    results.push({ check: "readiness: SELECT 1", status: one.rows[0]?.one === 1 ? "pass" : "fail", detail: `returned ${one.rows[0]?.one}` });
    const [schema, table] = migrationsTable.includes(".") ? migrationsTable.split(".") : ["public", migrationsTable];
    const exists = await client.query<{ t: string | null }>("SELECT to_regclass(format('%I.%I', $1::text, $2::text))::text AS t", [schema, table]);
    if (!exists.rows[0]?.t) {
      results.push({ check: "readiness: migrations applied", status: "fail", detail: `${migrationsTable} not found: the restored database was never migrated` });
    } else {
      const { rows } = await client.query<{ applied: string; pending: string }>(
        `SELECT count(*) FILTER (WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL)::text AS applied,
                count(*) FILTER (WHERE finished_at IS NULL AND rolled_back_at IS NULL)::text AS pending
           FROM ${exists.rows[0].t}`,
      );
      const applied = Number(rows[0]?.applied ?? 0);
      const pending = Number(rows[0]?.pending ?? 0);
      results.push({
        check: "readiness: migrations applied",
        status: applied > 0 && pending === 0 ? "pass" : "fail",
        detail: `${applied} applied, ${pending} unfinished`,
      });
    }
  } finally {
    await client.query("ROLLBACK").catch(() => undefined);
    await client.end();
  }
  return results;
}

/**
 * The drill owns the temporary database, so it installs amcheck there before the integrity checks:
 * without it "index consistency (amcheck's bt_index_check)" is only reported as not installed. The
 * source is never touched, and `ops:db:validate-integrity` on its own stays strictly read-only.
 * Returns the note for the record; an engine without amcheck is a note, not a failure (the
 * integrity report then says index structure was not verified).
 */
export async function enableAmcheck(connection: ClientConfig): Promise<string> {
  const client = new Client({ connectionTimeoutMillis: 10_000, ...connection, application_name: "runbook-drill-amcheck" });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("CREATE EXTENSION IF NOT EXISTS amcheck");
    return "amcheck enabled in the temporary database: index structure verified with bt_index_check";
  } catch (error) {
    return `amcheck could not be enabled in the temporary database (${(error as Error).message}); index structure not verified`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Runs one drill. Integrity violations give a record with `passed: false`; a drill that cannot run
 * (no snapshot, restore failure, timeout, unreachable database) throws a DrillError carrying the
 * record. Either way the temporary database is gone when this returns or throws.
 */
export async function runDrill(options: DrillOptions): Promise<DrillRecord> {
  const { backend } = options;
  const step = options.onStep ?? (() => undefined);
  const startedAt = new Date();
  const notes: string[] = [];
  const record: DrillRecord = {
    backend: backend.kind,
    sourceId: backend.sourceId,
    window: options.window,
    restoreMode: options.mode,
    snapshotId: "",
    capturedAt: "",
    temporaryId: options.temporaryId,
    startedAt: startedAt.toISOString(),
    finishedAt: "",
    rtoSeconds: undefined,
    passed: false,
    integritySummary: "",
    notes,
    rowCounts: {},
    results: [],
    cleanedUp: true,
  };
  let owed = false;
  let restoring: Promise<RestoredDatabase> | undefined;
  let cleanup: Promise<void> | undefined;
  const destroy = () => {
    cleanup ??= (async () => {
      step("cleanup", "start", options.temporaryId);
      // A restore still in flight (CREATE DATABASE copying, RestoreDBInstance* not yet answered)
      // would create the database after a delete that found nothing: let it land, then delete.
      await restoring?.catch(() => undefined);
      await backend.destroy(options.temporaryId);
      step("cleanup", "done", options.temporaryId);
    })();
    return cleanup;
  };
  let interruptedBy: NodeJS.Signals | undefined;
  const exitInterrupted = (signal: NodeJS.Signals) => process.exit(signal === "SIGINT" ? 130 : 143);
  const onSignal = (signal: NodeJS.Signals) => {
    // A second Ctrl-C must not kill the process halfway through the deletion it is waiting for.
    if (interruptedBy) {
      process.stderr.write(`${signal}: still deleting ${options.temporaryId}; waiting for it\n`);
      return;
    }
    interruptedBy = signal;
    notes.push(`interrupted by ${signal}; deleting ${options.temporaryId}`);
    const exit = () => exitInterrupted(signal);
    (owed ? destroy() : Promise.resolve()).then(exit, (error: unknown) => {
      process.stderr.write(`could not delete ${options.temporaryId}: ${(error as Error).message}\n`);
      exit();
    });
  };
  // Once interrupted, no further step starts: a step racing the deletion (connecting to the
  // database being dropped) would only fail, or crash the process before the exit code is set.
  const begin = (next: DrillStep, detail?: string) => {
    if (interruptedBy) throw new Error(`interrupted by ${interruptedBy} before the ${next} step`);
    step(next, "start", detail);
  };
  const handleSignals = options.handleSignals ?? true;
  if (handleSignals) {
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }
  let failure: Error | undefined;
  const t0 = performance.now();
  try {
    begin("find");
    const point = await backend.findLatest(options.mode);
    record.snapshotId = point.id;
    record.capturedAt = point.capturedAt;
    step("find", "done", point.id);

    begin("restore", options.temporaryId);
    owed = true;
    const requested = performance.now();
    notes.push(`restore of ${point.id} requested at ${seconds(requested - t0)} s`);
    restoring = backend.restore(point, options.temporaryId);
    const db = await restoring;
    step("restore", "done");

    begin("available");
    await backend.waitAvailable(db);
    notes.push(`available after ${seconds(performance.now() - requested)} s`);
    step("available", "done");

    begin("readiness");
    const connection = await backend.connection(db);
    const ready = await readiness(connection, options.migrationsTable ?? options.integrity.migrationsTable ?? "_prisma_migrations", options.readinessTimeoutMs ?? 300_000);
    notes.push(`ready after ${seconds(performance.now() - requested)} s`);
    step("readiness", "done");

    begin("integrity");
    notes.push(await enableAmcheck(connection));
    const report = await validateIntegrity({ ...options.integrity, connection, onProgress: options.onIntegrityProgress });
    const finished = performance.now();
    step("integrity", "done", report.summary);
    record.results = [...ready, ...report.results];
    record.rowCounts = report.rowCounts;
    record.passed = record.results.every((r) => r.status !== "fail");
    record.integritySummary = report.summary;
    if (record.passed) {
      record.rtoSeconds = seconds(finished - requested);
    } else {
      notes.push(`checks finished with failures after ${seconds(finished - requested)} s; no RTO is recorded for a restore that did not pass`);
      const failed = record.results.filter((r) => r.status === "fail");
      notes.push(...failed.slice(0, 10).map((r) => `FAIL ${r.check}: ${r.detail}`));
    }
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    record.passed = false;
    record.integritySummary = `drill failed: ${failure.message}`;
    notes.push(record.integritySummary);
  } finally {
    if (owed) {
      try {
        await destroy();
        notes.push(`temporary database ${options.temporaryId} deleted`);
      } catch (error) {
        record.cleanedUp = false;
        record.passed = false;
        notes.push(`cleanup failed: ${(error as Error).message}`);
        failure ??= error as Error;
      }
    }
    if (handleSignals) {
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
    }
    record.finishedAt = new Date().toISOString();
  }
  // The steps still running when the signal came fail against the dropped database: the exit is
  // the interruption's, not a drill failure for the caller to report.
  if (interruptedBy) exitInterrupted(interruptedBy);
  if (failure) {
    const cleaned = owed ? (record.cleanedUp ? `; temporary database ${options.temporaryId} deleted` : `; ${options.temporaryId} may still exist`) : "; nothing was restored";
    throw new DrillError(`restore drill of ${backend.sourceId} failed: ${failure.message}${cleaned}`, record);
  }
  return record;
}
