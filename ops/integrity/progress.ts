import { Listr } from "listr2";
import { plural } from "../lib/report";
import { CATEGORIES as ALL_CATEGORIES, type CheckCategory, type IntegrityProgress, type IntegrityResult } from "./index";

// The list shows the categories of planned checks; connectivity is the coordinator's own row.
const CATEGORIES = ALL_CATEGORIES.filter((c) => c !== "connectivity");

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Progress on a TTY: one line per category, "foreign keys 3/5 (1 failed)". Returns the callback to
 * hand to validateIntegrity and a runner that shows the list while the validation runs.
 */
export function integrityProgress(): {
  onProgress: (event: IntegrityProgress) => void;
  show<T>(work: Promise<T>): Promise<T>;
} {
  const totals: Partial<Record<CheckCategory, number>> = {};
  const done: Partial<Record<CheckCategory, number>> = {};
  const failed: Partial<Record<CheckCategory, number>> = {};
  const finished = new Map<CheckCategory, Deferred>(CATEGORIES.map((c) => [c, deferred()]));
  const planned = deferred();
  const titleUpdaters = new Map<CheckCategory, () => void>();

  const onProgress = (event: IntegrityProgress) => {
    if (event.kind === "planned") {
      Object.assign(totals, event.totals);
      for (const c of CATEGORIES) if (!totals[c]) finished.get(c)?.resolve();
      planned.resolve();
      return;
    }
    // A category's summary repeats rows its "finished" events already counted.
    if (event.kind !== "finished") return;
    done[event.category] = (done[event.category] ?? 0) + 1;
    failed[event.category] = (failed[event.category] ?? 0) + event.results.filter((r) => r.status === "fail").length;
    titleUpdaters.get(event.category)?.();
    if (done[event.category] === totals[event.category]) finished.get(event.category)?.resolve();
  };

  const show = async <T>(work: Promise<T>): Promise<T> => {
    const list = new Listr(
      CATEGORIES.map((category) => ({
        title: category,
        task: async (_ctx: unknown, task: { title: string; skip(message?: string): void }) => {
          await Promise.race([planned.promise, work.then(() => undefined, () => undefined)]);
          const update = () => {
            const f = failed[category] ?? 0;
            task.title = `${category} ${done[category] ?? 0}/${totals[category] ?? 0}${f > 0 ? ` (${f} failed)` : ""}`;
          };
          titleUpdaters.set(category, update);
          if (!totals[category]) {
            task.skip(`${category}: nothing to check`);
            return;
          }
          update();
          await Promise.race([finished.get(category)?.promise, work.then(() => undefined, () => undefined)]);
        },
      })),
      { concurrent: true, exitOnError: false, rendererOptions: { collapseSubtasks: false } },
    );
    const [result] = await Promise.all([work, list.run()]);
    return result;
  };
  return { onProgress, show };
}

/**
 * One line for a category's rows in the report: "foreign keys: 3 checks, 1 failed",
 * "privileges: 2 findings: not everything could be checked" (a missing privilege's finding is a row of its own), with
 * ", 1 not checked" and ", 2 warnings" when there are any.
 */
function summaryLine(category: CheckCategory, results: readonly IntegrityResult[]): string {
  const count = (status: IntegrityResult["status"]) => results.filter((r) => r.status === status).length;
  if (category === "privileges") return `${category}: ${plural(results.length, "finding")}: not everything could be checked`;
  const skipped = count("skip");
  const warnings = count("warn");
  return `${category}: ${plural(results.length, "check")}, ${count("fail")} failed${skipped > 0 ? `, ${skipped} not checked` : ""}${warnings > 0 ? `, ${plural(warnings, "warning")}` : ""}`;
}

/**
 * Progress without a terminal (CI, a pipe): one summary line per category as it completes, written
 * with `write` (stderr), never one per check. The counts are those of the category's rows in the report.
 */
export function integritySummaryLines(write: (text: string) => void): (event: IntegrityProgress) => void {
  return (event) => {
    if (event.kind === "summary") write(`${summaryLine(event.category, event.results)}\n`);
  };
}
