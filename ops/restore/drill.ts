import type { Validator } from "./invoke";
import { AwsUnreachableError, DrillError, type DrillRecord, type RestoreBackend, type RestoreMode, type RestoredDatabase } from "./types";
import type { ValidationChecks } from "./validation";

/**
 * The weekly drill's orchestration (RUNBOOK.md, Backup and restore drill, steps 3-7): sweep what a
 * crashed run left, restore the latest snapshot into a temporary database, have the validator run
 * the readiness and integrity checks where the database is reachable, record the RTO and notes,
 * and always delete the temporary database. The source is only ever described.
 *
 * A drill that fails (no snapshot, a restore that fails, checks that fail, a validation that times
 * out) is a result: a record with `passed: false`. Only a temporary database that could not be
 * deleted, or AWS that could not be reached, throws (a DrillError carrying the record). Nothing
 * here installs signal handlers or exits the process: a caller that wants Ctrl-C to stop a drill
 * passes an AbortSignal, and the drill then starts no further step and cleans up.
 */

export type DrillStep = "sweep" | "find" | "restore" | "available" | "validate" | "cleanup";

export interface DrillOptions {
  backend: RestoreBackend;
  mode: RestoreMode;
  /** The ISO week this drill belongs to. */
  window: string;
  /** Name of the temporary database (deterministic: names.ts temporaryIdentifier). */
  temporaryId: string;
  /** Runs the checks: in-process for local drills, the validation function for RDS. */
  validator: Validator;
  checks: ValidationChecks;
  /** Time budget of the validation, in milliseconds. @default 600000 */
  validationBudgetMs?: number;
  /** Stops the drill between steps; the temporary database is still deleted. */
  signal?: AbortSignal;
  onStep?: (step: DrillStep, state: "start" | "done", detail?: string) => void;
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;

export async function runDrill(options: DrillOptions): Promise<DrillRecord> {
  const { backend, signal } = options;
  const step = options.onStep ?? (() => undefined);
  const notes: string[] = [];
  const record: DrillRecord = {
    backend: backend.kind,
    sourceId: backend.sourceId,
    window: options.window,
    restoreMode: options.mode,
    snapshotId: "",
    capturedAt: "",
    temporaryId: options.temporaryId,
    startedAt: new Date().toISOString(),
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
  // A step racing a deletion would only fail: once aborted, no further step starts, and the step
  // in flight is no longer waited for (deleting the database ends its connections).
  const begin = (next: DrillStep, detail?: string) => {
    if (signal?.aborted) throw new Error(`interrupted before the ${next} step`);
    step(next, "start", detail);
  };
  const abortion = new Promise<never>((_, reject) => {
    signal?.addEventListener("abort", () => reject(new Error("interrupted")), { once: true });
  });
  abortion.catch(() => undefined);
  const interruptible = <T>(work: Promise<T>): Promise<T> => (signal ? Promise.race([work, abortion]) : work);
  // A leftover that cannot be deleted is a cleanup failure: the operation fails, nothing is restored.
  step("sweep", "start");
  const swept = await backend.sweep().catch((error: unknown) => {
    throw new DrillError(`restore drill of ${backend.sourceId}: sweeping an earlier run's temporary database failed: ${(error as Error).message}`);
  });
  if (swept.length > 0) notes.push(`deleted ${swept.length} temporary database${swept.length === 1 ? "" : "s"} an earlier run left behind: ${swept.join(", ")}`);
  step("sweep", "done", swept.join(", ") || undefined);
  let failure: Error | undefined;
  const t0 = performance.now();
  try {
    begin("find");
    const point = await interruptible(backend.findLatest(options.mode));
    record.snapshotId = point.id;
    record.capturedAt = point.capturedAt;
    step("find", "done", point.id);

    begin("restore", options.temporaryId);
    owed = true;
    const requested = performance.now();
    notes.push(`restore of ${point.id} requested at ${seconds(requested - t0)} s`);
    restoring = backend.restore(point, options.temporaryId);
    const db = await interruptible(restoring);
    step("restore", "done");

    begin("available");
    await interruptible(backend.waitAvailable(db));
    notes.push(`available after ${seconds(performance.now() - requested)} s`);
    step("available", "done");

    begin("validate");
    const target = await interruptible(backend.target(db));
    const result = await interruptible(options.validator({ kind: "validate", mode: "restored", target, checks: options.checks, budgetMs: options.validationBudgetMs }, signal));
    const finished = performance.now();
    step("validate", "done", result.summary);
    notes.push(...result.notes);
    record.results = result.results;
    record.rowCounts = result.rowCounts;
    record.passed = result.passed;
    record.integritySummary = result.summary;
    if (result.passed) {
      record.rtoSeconds = seconds(finished - requested);
    } else {
      notes.push(`checks finished with failures after ${seconds(finished - requested)} s; no RTO is recorded for a restore that did not pass`);
      const failed = result.results.filter((r) => r.status === "fail");
      notes.push(...failed.slice(0, 10).map((r) => `FAIL ${r.check}: ${r.detail}`));
    }
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    record.passed = false;
    record.rtoSeconds = undefined;
    record.integritySummary = `drill failed: ${failure.message}`;
    notes.push(record.integritySummary);
  } finally {
    if (owed) {
      step("cleanup", "start", options.temporaryId);
      try {
        // A restore still in flight would create the database after a delete that found nothing.
        await restoring?.catch(() => undefined);
        await backend.destroy(options.temporaryId);
        notes.push(`temporary database ${options.temporaryId} deleted`);
        step("cleanup", "done", options.temporaryId);
      } catch (error) {
        record.cleanedUp = false;
        record.passed = false;
        notes.push(`cleanup failed: ${(error as Error).message}`);
        throw new DrillError(`restore drill of ${backend.sourceId}: ${options.temporaryId} may still exist: ${(error as Error).message}`, finish(record));
      }
    }
    finish(record);
  }
  if (failure instanceof AwsUnreachableError) {
    throw new DrillError(`restore drill of ${backend.sourceId} could not run: ${failure.message}${owed ? `; temporary database ${options.temporaryId} deleted` : ""}`, record);
  }
  return record;
}

function finish(record: DrillRecord): DrillRecord {
  record.finishedAt = new Date().toISOString();
  return record;
}
