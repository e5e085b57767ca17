import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import Table from "cli-table3";
import type { Command } from "commander";
import { LOG_EVENTS } from "../../components/alarms/logContract";
import { listStacks, requireStackFile } from "../../stackFiles";
import { plural } from "../lib/report";
import { CliError, createCommand, required, runAsProcess, type CliIo } from "../lib/cli";
import { FilterPatternError } from "./filterPattern";
import { BAND_TRAINING_SECONDS, MetricMathError } from "./metricMath";
import { parsePlanDocument, PlanError, replayPlan, type PlanDocument } from "./plan";
import { AlarmReplay, ReplayInputError, type ReplayResult } from "./replay";

/**
 * `npm run alarms:replay -- --stack <stack> --logs <file.jsonl> [--metrics <file.csv>] [--plan <plan.json>] [--json]`
 *
 * Replays JSON log lines (and AWS-published metrics) through the stack's real metric filters and
 * alarms, taken from the offline plan, and prints each alarm's state changes with the topics they
 * notify. Exit codes: 0 replayed, 2 bad usage or input (the message names the file and line),
 * 3 the replay could not complete.
 */

const NAME = "alarms:replay";

/** Events the log contract routes to one source; lines without "@log" are routed by their event. */
function sourcesByEvent(): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const e of LOG_EVENTS) map.set(e.name, [...(map.get(e.name) ?? []), e.emittedBy]);
  return map;
}

const CHUNK_BYTES = 4 * 1024 * 1024;
const NEWLINE = 0x0a;

/** Splits decoded whole lines (the last one may lack its newline at the end of the file); returns the last line number. */
function emitLines(text: string, line: number, onLine: (text: string, line: number) => void): number {
  let from = 0;
  for (let nl = text.indexOf("\n", from); nl !== -1; nl = text.indexOf("\n", from)) {
    line++;
    const content = text.slice(from, nl).trim();
    if (content !== "") onLine(content, line);
    from = nl + 1;
  }
  if (from === text.length) return line;
  const content = text.slice(from).trim();
  if (content !== "") onLine(content, line + 1);
  return line + 1;
}

/** The number of the first line of `bytes` (whole lines following line `line`) that is not UTF-8. */
function firstNonUtf8Line(bytes: Buffer, line: number): number {
  let from = 0;
  for (let n = line + 1; ; n++) {
    const nl = bytes.indexOf(NEWLINE, from);
    const to = nl === -1 ? bytes.length : nl;
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(from, to));
    } catch {
      return n;
    }
    if (nl === -1) return n;
    from = nl + 1;
  }
}

/**
 * Calls `onLine(text, lineNumber)` for every non-blank line (trimmed), reading the file in 4 MiB
 * chunks cut at line ends (trimming drops a leading byte-order mark).
 * @throws ReplayInputError naming the file for a path that is not a readable file, and the file
 *   and line for bytes that are not UTF-8 (a Latin-1 or Windows-1252 export).
 */
export function forEachLine(file: string, onLine: (text: string, line: number) => void): void {
  let fd: number;
  try {
    if (!statSync(file).isFile()) throw new ReplayInputError(`${file}: is not a file (a directory?); give the path of a file`);
    fd = openSync(file, "r");
  } catch (error) {
    if (error instanceof ReplayInputError) throw error;
    throw new ReplayInputError(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); check the path`);
  }
  let buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let kept = 0;
  let line = 0;
  try {
    for (;;) {
      if (kept === buffer.length) {
        // One line longer than the buffer: keep reading it into a larger one.
        const larger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(larger, 0, 0, kept);
        buffer = larger;
      }
      const n = readSync(fd, buffer, kept, buffer.length - kept, null);
      const end = kept + n;
      const cut = n === 0 ? end : buffer.lastIndexOf(NEWLINE, end - 1) + 1;
      if (cut > 0) {
        const bytes = buffer.subarray(0, cut);
        let text: string;
        try {
          text = decoder.decode(bytes);
        } catch {
          const bad = firstNonUtf8Line(bytes, line);
          throw new ReplayInputError(`${file}:${bad}: not UTF-8 text (Latin-1 or Windows-1252?); convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8 ${file}`);
        }
        line = emitLines(text, line, onLine);
      }
      if (n === 0) return;
      buffer.copy(buffer, 0, cut, end);
      kept = end - cut;
    }
  } finally {
    closeSync(fd);
  }
}

/** Where the plan comes from: a plan file (whose stack, when given, --stack must match), or the program run for a stack. */
type PlanSource = { file: string; stack?: string } | { stack: string };

/**
 * The plan source the flags name. With --plan, --stack is optional (the plan names its stack);
 * without it, --stack must have a stack file.
 * @throws CliError or StackFileError (exit 2) for a missing --stack or one without a stack file.
 */
function planSource(o: Options): PlanSource {
  if (o.plan !== undefined) return { file: o.plan, ...(o.stack === undefined ? {} : { stack: o.stack }) };
  const stack = required(o.stack, "--stack", `--stack ${listStacks().join(" or --stack ")} (or --plan <file>)`);
  requireStackFile(stack, "pass --plan <file> with that stack's offline plan");
  return { stack };
}

async function loadPlan(source: PlanSource): Promise<PlanDocument> {
  if ("file" in source) {
    const { file, stack } = source;
    const fix = `write it with npm run -s start -- --stack ${stack ?? "<stack>"} --json > ${file}`;
    let doc: unknown;
    try {
      // A pipe or a device would be read forever; a directory gets its own message.
      const info = statSync(file);
      if (!info.isFile()) throw new Error(info.isDirectory() ? "is a directory; give the plan file itself" : "not a regular file (a device or a pipe)");
      doc = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw new ReplayInputError(`--plan ${file}: ${(error as Error).message}; ${fix}`);
    }
    const plan = parsePlanDocument(doc);
    if (typeof plan === "string") throw new ReplayInputError(`--plan ${file}: not an offline plan: ${plan}; ${fix}`);
    if (stack !== undefined && plan.stack !== stack) {
      throw new ReplayInputError(`--plan ${file} is the plan of stack "${plan.stack}", not "${stack}"; leave --stack out to replay the plan's stack`);
    }
    return plan;
  }
  // The offline preview's program runner: the real program under Pulumi's mock runtime.
  const { runProgram } = await import("../../tests/support/harness.js");
  const result = await runProgram({ stack: source.stack });
  return { stack: source.stack, resources: result.resources.map((r) => ({ type: r.type, name: r.name, inputs: r.inputs })) };
}

/** Replays files against a plan; the engine behind the CLI and the tests. */
export function replayFiles(plan: PlanDocument, logs: string, metrics?: string): { result: ReplayResult; replay: AlarmReplay } {
  const replay = new AlarmReplay(replayPlan(plan), { sourcesByEvent: sourcesByEvent() });
  forEachLine(logs, (text, line) => replay.addLogLine(text, `${logs}:${line}`));
  if (metrics !== undefined) {
    forEachLine(metrics, (text, line) => {
      if (line === 1 && text.startsWith("time,")) return;
      replay.addMetricRow(text, `${metrics}:${line}`);
    });
  }
  return { result: replay.finish(), replay };
}

function topicName(arn: string): string {
  return arn.slice(arn.lastIndexOf(":") + 1);
}

function render(result: ReplayResult, lines: number, notes: string[]): string {
  const out: string[] = [`Alarm replay of ${plural(lines, "log line")} through the ${result.stack} plan's metric filters and alarms.`];
  const table = new Table({ head: ["time (UTC)", "alarm", "from", "to", "notifies"], style: { head: [], border: [] } });
  const all = result.alarms.flatMap((a) => a.transitions.map((t) => ({ alarm: a.name, ...t }))).sort((a, b) => a.at.localeCompare(b.at));
  for (const t of all) table.push([t.at.replace("T", " ").replace(".000Z", ""), t.alarm, t.from, t.to, t.notifies.map(topicName).join(", ") || "-"]);
  out.push(all.length === 0 ? "No alarm changed state." : table.toString());
  const summary = new Table({ head: ["alarm", "changes", "final state", "ALARM entries"], style: { head: [], border: [] } });
  for (const a of result.alarms) {
    const last = a.transitions[a.transitions.length - 1];
    summary.push([a.name, String(a.transitions.length), last?.to ?? "INSUFFICIENT_DATA", String(a.transitions.filter((t) => t.to === "ALARM").length)]);
  }
  out.push(summary.toString(), ...notes.map((n) => `Note: ${n}`));
  return `${out.join("\n")}\n`;
}

function notesFor(plan: PlanDocument, replay: AlarmReplay): string[] {
  const notes = [
    `anomaly bands are APPROXIMATED (mean +/- k standard deviations of the previous ${BAND_TRAINING_SECONDS / 3600} h, none before that much history); CloudWatch's trained model is verified only in the cloud.`,
  ];
  const wanted = new Set<string>();
  for (const r of plan.resources) {
    const queries = (r.inputs.metricQueries as { metric?: { namespace?: string; metricName?: string } }[] | undefined) ?? [];
    const metrics = queries.length > 0 ? queries.map((q) => q.metric) : [{ namespace: r.inputs.namespace as string | undefined, metricName: r.inputs.metricName as string | undefined }];
    for (const m of metrics) if (m?.namespace?.startsWith("AWS/") && m.metricName) wanted.add(`${m.namespace}|${m.metricName}`);
  }
  const absent = [...wanted].filter((m) => !replay.suppliedMetrics.has(m)).map((m) => m.replace("|", " "));
  if (absent.length > 0) notes.push(`no --metrics rows for ${absent.join(", ")}: their alarms saw only missing data.`);
  return notes;
}

/** Errors the replay reports as bad input (exit 2): they name the file and line, or the plan resource. */
/** Bad input (exit 2): the replay's own refusals, a bad setting, or anything else carrying exit code 2 (a stack file that cannot be read). */
function isBadInput(error: unknown): boolean {
  return (
    error instanceof ReplayInputError ||
    error instanceof PlanError ||
    error instanceof FilterPatternError ||
    error instanceof MetricMathError ||
    (error as Error | undefined)?.name === "ConfigError" ||
    (error as { exitCode?: unknown } | undefined)?.exitCode === 2
  );
}

export function command(io?: CliIo): Command {
  return createCommand(NAME, "Replay JSON log lines (and AWS metrics) through a stack's metric filters and alarms, as CloudWatch evaluates them", io)
    .option("--stack <stack>", "the stack whose offline plan supplies the filters and alarms: one with a Pulumi.<stack>.yaml; with --plan, optional (the plan names it) and must match")
    .option("--logs <file>", 'JSON lines, sorted by their ISO "time"; "@log" (api | worker) routes a line, else its event does')
    .option("--metrics <file>", "CSV rows time,namespace,metric,dimensions,value of AWS-published metrics (dimensions Name=Value;...)")
    .option("--plan <file>", "an offline plan (npm run -s start -- --stack <stack> --json) instead of running the program")
    .option("--json", 'print { "stack", "alarms": [{ "name", "transitions": [{ "at", "from", "to", "notifies" }] }] }');
}

interface Options {
  stack?: string;
  logs?: string;
  metrics?: string;
  plan?: string;
  json?: boolean;
}

export async function replayCommand(o: Options, io: CliIo): Promise<number> {
  const source = planSource(o);
  const logs = required(o.logs, "--logs", "--logs incident.jsonl");
  try {
    const plan = await loadPlan(source);
    if (process.stderr.isTTY && !o.json) io.stderr(`${NAME}: replaying ${logs} through the ${plan.stack} plan...\n`);
    const { result, replay } = replayFiles(plan, logs, o.metrics);
    // An empty export replays as "no alarm changed state", which would read as a clean bill of health.
    if (replay.lines === 0) throw new ReplayInputError(`${logs}: holds no log lines; export the log groups' events as JSON lines (one event per line)`);
    if (o.json) {
      for (const note of notesFor(plan, replay)) io.stderr(`${NAME}: note: ${note}\n`);
      io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      io.stdout(render(result, replay.lines, notesFor(plan, replay)));
    }
    return 0;
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    const bad = [error, cause].find(isBadInput) as Error | undefined;
    if (bad) throw new CliError(bad instanceof PlanError && o.plan !== undefined ? `--plan ${o.plan}: ${bad.message}` : bad.message, 2);
    throw new CliError(`the replay did not complete: ${error instanceof Error ? error.message : String(error)}`, 3);
  }
}

if (require.main === module) runAsProcess(command(), replayCommand);
