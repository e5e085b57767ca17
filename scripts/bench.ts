import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { cpus } from "node:os";
import * as path from "node:path";
import Table from "cli-table3";
import { CliError, createCommand, runAsProcess, type CliIo } from "../ops/lib/cli";
import { plural } from "../ops/lib/report";
import { STACKS } from "../runbook";
import { median, type BenchRow } from "./bench/types";

/**
 * `npm run bench`: every benchmark of the project in one run, each quantity against a baseline
 * measured in the same run, printed as a table of medians and ratios. Benchmarks live in
 * scripts/bench/<topic>.ts and export `bench<Topic>(): Promise<BenchRow[]>`.
 */

const ROOT = path.resolve(__dirname, "..");
const RUNS = 5;

function timeCommand(command: string, args: string[]): number {
  const started = performance.now();
  const run = spawnSync(command, args, { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  const elapsed = performance.now() - started;
  if (run.status !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${run.status}: ${run.stderr}`);
  return elapsed;
}

/** The offline preview of each stack against loading @pulumi/aws alone in a bare node. */
function benchPreview(progress: (line: string) => void): BenchRow[] {
  const baseline = "node -e \"require('@pulumi/aws')\"";
  const rows: BenchRow[] = [{ name: baseline, samples: [], unit: "ms" }];
  for (let i = 0; i < RUNS; i++) rows[0]?.samples.push(timeCommand(process.execPath, ["-e", "require('@pulumi/aws')"]));
  progress(`  baseline: ${RUNS} runs`);
  const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
  for (const stack of STACKS) {
    const samples: number[] = [];
    for (let i = 0; i < RUNS; i++) samples.push(timeCommand(tsx, ["scripts/preview.ts", "--stack", stack, "--json"]));
    rows.push({ name: `npm start -- --stack ${stack} --json`, samples, unit: "ms", baseline });
    progress(`  preview ${stack}: ${RUNS} runs`);
  }
  return rows;
}

type BenchModule = Record<string, unknown>;

/** The topics `--only` takes: `preview`, and each benchmark file in scripts/bench. */
export function benchTopics(): string[] {
  const files = readdirSync(path.join(__dirname, "bench")).filter((f) => f.endsWith(".ts") && f !== "types.ts");
  return ["preview", ...files.map((f) => f.replace(/\.ts$/, "")).sort()];
}

async function topicBenches(only: string[] | undefined, progress: (line: string) => void): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const topic of benchTopics().filter((t) => t !== "preview")) {
    const file = `${topic}.ts`;
    if (only && !only.includes(topic)) continue;
    const started = performance.now();
    progress(`${topic}: running`);
    const mod = (await import(path.join(__dirname, "bench", file))) as BenchModule;
    const entry = Object.entries(mod).find(([name, value]) => name.startsWith("bench") && typeof value === "function");
    if (!entry) throw new Error(`scripts/bench/${file} exports no bench<Topic>() function`);
    rows.push(...(await (entry[1] as () => Promise<BenchRow[]>)()));
    progress(`${topic}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return rows;
}

function format(value: number, unit: string): string {
  if (unit === "rows/s") return `${Math.round(value).toLocaleString("en-US")} rows/s`;
  if (unit === "ms" && value >= 10_000) return `${(value / 1000).toFixed(2)} s`;
  return `${value.toFixed(unit === "ms" ? 0 : 2)} ${unit}`;
}

/** Ratio to the baseline, oriented so that > 1 means "costs more" for times and "delivers more" for rates. */
function ratio(row: BenchRow, rows: readonly BenchRow[]): string {
  const base = rows.find((r) => r.name === row.baseline);
  if (!base) return "";
  return `${(median(row.samples) / median(base.samples)).toFixed(2)}x`;
}

/** The target with its verdict for this run, e.g. "<= 2x baseline: met". */
function verdict(row: BenchRow, rows: readonly BenchRow[]): string {
  if (!row.target) return "";
  const base = rows.find((r) => r.name === row.baseline);
  if (!row.meets || (row.baseline !== undefined && !base)) return row.target;
  // A target without a baseline (an absolute limit, e.g. peak RSS) gets NaN for it.
  return `${row.target}: ${row.meets(median(row.samples), base ? median(base.samples) : Number.NaN) ? "met" : "MISSED"}`;
}

async function bench(options: { only?: string[] }, io: CliIo): Promise<number> {
  const topics = benchTopics();
  const unknown = (options.only ?? []).filter((t) => !topics.includes(t));
  if (unknown.length > 0) {
    throw new CliError(`--only: no benchmark topic ${unknown.map((t) => `"${t}"`).join(", ")}; the topics are ${topics.join(", ")}`);
  }
  const started = performance.now();
  const progress = (line: string) => io.stderr(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  const rows: BenchRow[] = [];
  if (!options.only || options.only.includes("preview")) {
    progress("preview: running");
    rows.push(...benchPreview(progress));
  }
  rows.push(...(await topicBenches(options.only, progress)));

  const table = new Table({ head: ["benchmark", "median", "min", "max", "n", "vs baseline", "target"], style: { head: [], border: [] } });
  for (const row of rows) {
    table.push([
      row.name,
      format(median(row.samples), row.unit),
      format(Math.min(...row.samples), row.unit),
      format(Math.max(...row.samples), row.unit),
      String(row.samples.length),
      ratio(row, rows) || (rows.some((r) => r.baseline === row.name) ? "(baseline)" : ""),
      verdict(row, rows),
    ]);
  }
  io.stdout(`${table.toString()}\nMachine: ${process.version}, ${plural(cpus().length, "core")}; total ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return 0;
}

if (require.main === module) {
  const program = createCommand("bench", "Every benchmark of the project in one run: medians and ratios against a baseline measured in the same run.").option(
    "--only <topics...>",
    `run only these topics (${benchTopics().join(", ")})`,
  );
  runAsProcess(program, bench);
}
