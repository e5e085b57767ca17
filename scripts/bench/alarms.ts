import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from "node:fs";
import * as path from "node:path";
import { forEachLine, replayFiles } from "../../ops/alarms/cli";
import type { PlanDocument } from "../../ops/alarms/plan";
import { runProgram } from "../../tests/support/harness";
import { median, type BenchRow } from "./types";

/**
 * `alarms:replay` over one day of logs at 100 requests per second (8.64 M http_request lines, 1 % of
 * them 5xx, plus a worker_lag line a minute), against the baseline of reading and JSON-parsing the
 * same file. The target: the replay under 60 s. The file is generated once into .tmp/ and
 * reused while its size matches; it is never part of CI.
 */

const RPS = 100;
const SECONDS = 86_400;
const RUNS = 3;
const FILE = path.resolve(__dirname, "../../.tmp/bench-alarms-1day-100rps.jsonl");

function generate(file: string): number {
  mkdirSync(path.dirname(file), { recursive: true });
  const fd = openSync(file, "w");
  const start = Date.parse("2026-11-30T00:00:00.000Z");
  let lines = 0;
  let chunk: string[] = [];
  try {
    for (let s = 0; s < SECONDS; s++) {
      for (let i = 0; i < RPS; i++) {
        const time = new Date(start + s * 1000 + i * 10).toISOString();
        const status = (s * RPS + i) % 100 === 0 ? 503 : 200;
        chunk.push(`{"time":"${time}","level":"info","event":"http_request","requestId":"r${s}-${i}","method":"GET","path":"/api/orders/:id","status":${status},"durationMs":${(i % 50) + 0.5}}`);
      }
      if (s % 60 === 30) chunk.push(`{"time":"${new Date(start + s * 1000 + 999).toISOString()}","level":"info","event":"worker_lag","workerLagMs":${(s % 7) * 1000}}`);
      lines += RPS;
      if (chunk.length >= 50_000) {
        writeSync(fd, `${chunk.join("\n")}\n`);
        chunk = [];
      }
    }
    if (chunk.length > 0) writeSync(fd, `${chunk.join("\n")}\n`);
  } finally {
    closeSync(fd);
  }
  return lines;
}

/** Wall-clock and CPU seconds (user + system) of one run: on a shared machine the CPU time is the steadier figure. */
function timed(run: () => void): { wall: number; cpu: number } {
  const started = performance.now();
  const cpu = process.cpuUsage();
  run();
  const used = process.cpuUsage(cpu);
  return { wall: (performance.now() - started) / 1000, cpu: (used.user + used.system) / 1e6 };
}

export async function benchAlarms(): Promise<BenchRow[]> {
  // A marker written after a complete generation, holding the file's size: a cut-short file is made again.
  const marker = `${FILE}.complete`;
  if (!existsSync(FILE) || !existsSync(marker) || readFileSync(marker, "utf8") !== String(statSync(FILE).size)) {
    process.stderr.write(`  alarms: generating ${(RPS * SECONDS).toLocaleString("en")} lines into ${path.relative(process.cwd(), FILE)}\n`);
    generate(FILE);
    writeFileSync(marker, String(statSync(FILE).size));
  }
  const result = await runProgram({ stack: "production" });
  const plan: PlanDocument = { stack: "production", resources: result.resources.map((r) => ({ type: r.type, name: r.name, inputs: r.inputs })) };
  const baseline = `read + JSON.parse, 1 day at ${RPS} rps (wall)`;
  const baselineCpu = `read + JSON.parse, 1 day at ${RPS} rps (CPU)`;
  const parse: { wall: number; cpu: number }[] = [];
  const replay: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    parse.push(
      timed(() => {
        let n = 0;
        forEachLine(FILE, (text) => {
          if (JSON.parse(text) !== null) n++;
        });
        if (n < RPS * SECONDS) throw new Error(`read ${n} lines, expected at least ${RPS * SECONDS}`);
      }),
    );
    replay.push(
      timed(() => {
        const { result: replayed } = replayFiles(plan, FILE);
        const rate = replayed.alarms.find((a) => a.name.endsWith("-api-5xx-rate"));
        if (!rate || rate.transitions.some((t) => t.to === "ALARM")) throw new Error("1 % of 5xx must not page: the benchmark replays a healthy day");
      }),
    );
    const [p, r] = [parse[i], replay[i]] as [{ wall: number; cpu: number }, { wall: number; cpu: number }];
    process.stderr.write(`  alarms: run ${i + 1}/${RUNS}: parse ${p.wall.toFixed(1)} s (CPU ${p.cpu.toFixed(1)} s), replay ${r.wall.toFixed(1)} s (CPU ${r.cpu.toFixed(1)} s)\n`);
  }
  const name = `alarms:replay (production plan), 1 day at ${RPS} rps (8.64 M lines)`;
  return [
    { name: baseline, samples: parse.map((x) => x.wall), unit: "s" },
    { name: `${name} (wall)`, samples: replay.map((x) => x.wall), unit: "s", baseline, target: "< 60 s", meets: (m) => m < 60 },
    { name: baselineCpu, samples: parse.map((x) => x.cpu), unit: "s" },
    { name: `${name} (CPU)`, samples: replay.map((x) => x.cpu), unit: "s", baseline: baselineCpu, target: "< 60 s of CPU", meets: (m) => m < 60 },
  ];
}

if (require.main === module) {
  benchAlarms().then(
    (rows) => {
      for (const row of rows) process.stdout.write(`${row.name}: median ${median(row.samples).toFixed(1)} ${row.unit} (n=${row.samples.length})\n`);
    },
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
}
