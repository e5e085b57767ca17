import Table from "cli-table3";

/**
 * The shape every ops command reports in: one row per check, printed as a table for people and as
 * JSON for machines, and an exit code that is non-zero when any check failed.
 */

/** `skip`: could not be checked (e.g. a missing privilege); the run is incomplete (exit 3). */
export type CheckStatus = "pass" | "fail" | "warn" | "info" | "skip";

export interface CheckResult {
  /** What was checked, e.g. "GET /health/ready" or "orphans: orders.user_id -> users.id". */
  check: string;
  status: CheckStatus;
  /** What was found, or what went wrong and how to fix it. */
  detail: string;
  /** How long the check took. */
  durationMs?: number;
}

/** `1 finding`, `2 findings`: a count with its noun, singular or plural. */
export function plural(count: number | bigint, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 || count === 1n ? singular : pluralForm}`;
}

const MARK: Record<CheckStatus, string> = { pass: "PASS", fail: "FAIL", warn: "WARN", info: "INFO", skip: "SKIP" };

/** A plain-text table (no colours), one row per check. */
export function renderTable(results: readonly CheckResult[], title?: string): string {
  const table = new Table({
    head: ["status", "check", "detail", "ms"],
    style: { head: [], border: [] },
    wordWrap: true,
    colWidths: [8, 44, 70, 8],
  });
  for (const r of results) {
    table.push([MARK[r.status], r.check, r.detail, r.durationMs === undefined ? "" : String(Math.round(r.durationMs))]);
  }
  const failed = results.filter((r) => r.status === "fail").length;
  const skipped = results.filter((r) => r.status === "skip").length;
  const summary = `${plural(results.length, "check")}: ${results.length - failed - skipped} without failure, ${failed} failed${skipped > 0 ? `, ${skipped} not checked (incomplete)` : ""}`;
  return [title, table.toString(), summary].filter(Boolean).join("\n");
}

/** 1 when any check failed; else 3 when something could not be checked (incomplete); else 0. */
export function exitCodeFor(results: readonly CheckResult[]): number {
  if (results.some((r) => r.status === "fail")) return 1;
  return results.some((r) => r.status === "skip") ? 3 : 0;
}

/** Times a check and turns a thrown error into a failed row instead of a crash. */
export async function timed(check: string, run: () => Promise<Omit<CheckResult, "check" | "durationMs">>): Promise<CheckResult> {
  const started = performance.now();
  try {
    const result = await run();
    return { check, ...result, durationMs: performance.now() - started };
  } catch (error) {
    return { check, status: "fail", detail: error instanceof Error ? error.message : String(error), durationMs: performance.now() - started };
  }
}

/**
 * Writes the report of a command that checks one target (a table for people, `--json` for
 * machines) and resolves once stdout has taken it, so the caller may `process.exit` with the
 * returned code without cutting the report short.
 */
export function printReport(results: readonly CheckResult[], report: { command: string; title: string; json: boolean; target: Record<string, string> }): Promise<number> {
  const exitCode = exitCodeFor(results);
  const text = report.json
    ? `${JSON.stringify({ command: report.command, ...report.target, results, exitCode }, null, 2)}\n`
    : `${renderTable(results, report.title)}\n`;
  return new Promise((resolve) => process.stdout.write(text, () => resolve(exitCode)));
}
