import { readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forEachLine, replayFiles } from "../../../ops/alarms/cli";
import type { PlanDocument } from "../../../ops/alarms/plan";
import { MAX_REPLAY_DAYS, ReplayInputError, type ReplayResult, type Transition } from "../../../ops/alarms/replay";
import { one, runProgram } from "../../support/harness";
import { at, LogFile, MetricsFile, scratchDir } from "./logFiles";

/**
 * The runbook's "Alerts and on-call thresholds", proven by replaying log files built around each
 * line's edges through the staging plan's real metric filters and alarms. Expected outcomes come
 * from the runbook text ("> 2% for 5m", "> 3 in 5m", "2 consecutive runs", "> 15m"), not from
 * runbook.ts.
 */

let plan: PlanDocument;
let dbInstance: string;
let dir: string;

beforeAll(async () => {
  const result = await runProgram({ stack: "staging" });
  plan = { stack: "staging", resources: result.resources.map((r) => ({ type: r.type, name: r.name, inputs: r.inputs })) };
  dbInstance = String(one(result, "aws:rds/instance:Instance").inputs.identifier);
  dir = scratchDir();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function replay(logs: LogFile, metrics?: MetricsFile): ReplayResult {
  counter++;
  return replayFiles(plan, logs.write(dir, `logs-${counter}.jsonl`), metrics?.write(dir, `metrics-${counter}.csv`)).result;
}
function transitions(result: ReplayResult, key: string): Transition[] {
  const found = result.alarms.find((a) => a.name === `runbook-staging-${key}`);
  if (!found) throw new Error(`no alarm runbook-staging-${key} in ${result.alarms.map((a) => a.name).join(", ")}`);
  return found.transitions;
}
/** Replaying `logs` (and `metrics`) throws a ReplayInputError whose message matches. */
function expectBad(logs: LogFile, message: RegExp, metrics?: MetricsFile): void {
  let error: unknown;
  try {
    replay(logs, metrics);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ReplayInputError);
  expect((error as Error).message).toMatch(message);
}
const alarmsAt = (result: ReplayResult, key: string) => transitions(result, key).filter((t) => t.to === "ALARM").map((t) => t.at);
const PAGE = "arn:aws:sns:eu-west-1:123456789012:runbook-staging-page";
const TICKET = "arn:aws:sns:eu-west-1:123456789012:runbook-staging-ticket";

describe('"5xx_rate > 2% for 5m": page on-call', () => {
  const background = () => new LogFile().lag(0, 20, 1000);

  it("2.5 % for 4 minutes does not page; for 5 minutes it pages at the end of the fifth", () => {
    expect(alarmsAt(replay(background().traffic(0, 20, 200)), "page-api-5xx-rate")).toEqual([]);
    const four = background().traffic(0, 3, 200).traffic(3, 7, 200, 5).traffic(7, 20, 200);
    expect(alarmsAt(replay(four), "page-api-5xx-rate")).toEqual([]);
    const five = background().traffic(0, 3, 200).traffic(3, 8, 200, 5).traffic(8, 20, 200);
    const result = replay(five);
    expect(alarmsAt(result, "page-api-5xx-rate")).toEqual([at(8)]);
    const entered = transitions(result, "page-api-5xx-rate").find((t) => t.to === "ALARM");
    expect(entered).toEqual({ at: at(8), from: "OK", to: "ALARM", notifies: [PAGE] });
    expect(transitions(result, "page-api-5xx-rate").at(-1)).toEqual({ at: at(9), from: "ALARM", to: "OK", notifies: [PAGE] });
  });

  it("exactly 2 % for 10 minutes does not page (the line says more than 2 %)", () => {
    expect(alarmsAt(replay(background().traffic(0, 20, 200, 4)), "page-api-5xx-rate")).toEqual([]);
  });

  it("no traffic does not page, and a quiet minute inside a 100 % error burst breaks the five minutes", () => {
    const quiet = replay(background());
    expect(alarmsAt(quiet, "page-api-5xx-rate")).toEqual([]);
    expect(transitions(quiet, "page-api-5xx-rate").at(-1)?.to).toBe("OK");
    const gap = background().traffic(2, 4, 50, 50).traffic(5, 8, 50, 50);
    expect(alarmsAt(replay(gap), "page-api-5xx-rate")).toEqual([]);
  });
});

describe('"workerLagMs > 15m": page on-call', () => {
  it("14 minutes of lag does not page; 16 minutes pages after two reporting minutes", () => {
    expect(alarmsAt(replay(new LogFile().lag(0, 10, 14 * 60_000)), "page-worker-lag")).toEqual([]);
    const result = replay(new LogFile().lag(0, 4, 1000).lag(4, 10, 16 * 60_000));
    expect(alarmsAt(result, "page-worker-lag")).toEqual([at(6)]);
    expect(transitions(result, "page-worker-lag").find((t) => t.to === "ALARM")?.notifies).toEqual([PAGE]);
  });

  it("one minute of late or missing lag reports does not page; two silent minutes do", () => {
    const late = new LogFile().lag(0, 5, 1000).lag(6, 12, 1000).traffic(0, 12, 10);
    expect(alarmsAt(replay(late), "page-worker-lag")).toEqual([]);
    const silent = new LogFile().lag(0, 5, 1000).lag(7, 12, 1000).traffic(0, 12, 10);
    expect(alarmsAt(replay(silent), "page-worker-lag")).toEqual([at(7)]);
  });
});

describe('"worker job failures for 2 consecutive runs": page on-call', () => {
  const lag = (to: number) => new LogFile().lag(0, to, 1000);

  it("one failed run does not page; two consecutive failed runs do, six hours apart", () => {
    expect(alarmsAt(replay(lag(30).run(5, "succeeded", 0).run(20, "failed", 1)), "page-worker-job-failures")).toEqual([]);
    const sixHours = 360;
    const result = replay(new LogFile().run(0, "failed", 1).run(sixHours, "failed", 2).lag(sixHours, sixHours + 5, 1000));
    expect(alarmsAt(result, "page-worker-job-failures")).toEqual([at(sixHours + 1)]);
  });

  it("failed, succeeded, failed does not page; a page clears at the next successful run", () => {
    expect(alarmsAt(replay(lag(40).run(5, "failed", 1).run(15, "succeeded", 0).run(25, "failed", 1)), "page-worker-job-failures")).toEqual([]);
    const result = replay(lag(40).run(5, "failed", 1).run(15, "failed", 2).run(30, "succeeded", 0));
    expect(transitions(result, "page-worker-job-failures").map((t) => [t.at, t.to])).toEqual([
      [at(6), "OK"],
      [at(16), "ALARM"],
      [at(31), "OK"],
    ]);
  });
});

describe('"db_connectivity_failures > 3 in 5m": page on-call', () => {
  const base = () => new LogFile().lag(0, 15, 1000).traffic(0, 15, 10);

  it("3 failures in 5 minutes do not page; 4 do, counted across the API and the worker", () => {
    expect(alarmsAt(replay(base().dbFailures(5, 2, "api").dbFailures(8, 1, "worker")), "page-db-connectivity-failures")).toEqual([]);
    const result = replay(base().dbFailures(5, 2, "api").dbFailures(8, 2, "worker"));
    expect(alarmsAt(result, "page-db-connectivity-failures")).toEqual([at(10)]);
  });

  it("takes @log as a Logs Insights export names it (<account id>:<log group>)", () => {
    const insights = (minute: number) =>
      JSON.stringify({ time: at(minute), "@log": "123456789012:/runbook/staging/worker", event: "db_connectivity_failure", level: "error" });
    const logs = base().dbFailures(5, 2, "api").raw(8, insights(8)).raw(8, insights(8));
    expect(alarmsAt(replay(logs), "page-db-connectivity-failures")).toEqual([at(10)]);
  });

  it("4 failures split across two five-minute periods do not page", () => {
    expect(alarmsAt(replay(base().dbFailures(3, 2, "api").dbFailures(6, 2, "api")), "page-db-connectivity-failures")).toEqual([]);
  });
});

describe('"webhook_invalid_signature_rate spike": high-priority ticket', () => {
  it("a burst of invalid signatures tickets once; 19 in five minutes (under the floor, no trained band) does not", () => {
    const quiet = new LogFile().lag(0, 20, 1000).traffic(0, 20, 10).invalidSignatures(6, 19);
    expect(alarmsAt(replay(quiet), "ticket-webhook-invalid-signature-spike")).toEqual([]);
    const burst = new LogFile().lag(0, 20, 1000).traffic(0, 20, 10).invalidSignatures(6, 15).invalidSignatures(7, 15).invalidSignatures(8, 15);
    const result = replay(burst);
    expect(transitions(result, "ticket-webhook-invalid-signature-spike").filter((t) => t.to === "ALARM")).toEqual([{ at: at(10), from: "OK", to: "ALARM", notifies: [TICKET] }]);
    // The members carry no actions: the composite is the only ticket.
    for (const member of ["floor", "band"]) {
      for (const t of transitions(result, `ticket-webhook-invalid-signature-spike-${member}`)) expect(t.notifies).toEqual([]);
    }
  });
});

describe("AWS-published metrics from --metrics", () => {
  const logs = () => new LogFile().lag(0, 30, 1000);
  const GiB = 1024 ** 3;

  it("free storage pages below the absolute floor (10 % of the initial 50 GiB), whatever the volume has grown to", () => {
    const above = new MetricsFile().series(0, 30, "AWS/RDS", "FreeStorageSpace", `DBInstanceIdentifier=${dbInstance}`, () => 5.5 * GiB);
    expect(alarmsAt(replay(logs(), above), "page-db-low-free-storage")).toEqual([]);
    const below = new MetricsFile().series(0, 30, "AWS/RDS", "FreeStorageSpace", `DBInstanceIdentifier=${dbInstance}`, (m) => (m < 10 ? 8 * GiB : 4.9 * GiB));
    expect(alarmsAt(replay(logs(), below), "page-db-low-free-storage")).toEqual([at(20)]);
  });

  it('"health_ready != ready for 3m": two unhealthy minutes do not page, three do', () => {
    const two = new MetricsFile().series(0, 30, "AWS/Route53", "HealthCheckStatus", "", (m) => (m >= 5 && m < 7 ? 0 : 1));
    expect(alarmsAt(replay(logs(), two), "page-health-ready")).toEqual([]);
    const three = new MetricsFile().series(0, 30, "AWS/Route53", "HealthCheckStatus", "", (m) => (m >= 5 && m < 8 ? 0 : 1));
    const result = replay(logs(), three);
    expect(alarmsAt(result, "page-health-ready")).toEqual([at(8)]);
    const notifies = transitions(result, "page-health-ready").find((t) => t.to === "ALARM")?.notifies ?? [];
    expect(notifies.map((arn) => arn.slice(arn.lastIndexOf(":") + 1))).toEqual(["runbook-staging-page-us-east-1"]);
  });
});

describe("bad input names the file and line", () => {
  it("a line that is not JSON", () => expectBad(new LogFile().lag(0, 3, 1).raw(1, "GET /health 200"), /logs-\d+\.jsonl:2: not JSON \(GET \/health 200\)/));
  it("a time going backwards", () => expectBad(new LogFile().lag(0, 3, 1).raw(2, JSON.stringify({ time: at(0), event: "worker_lag", workerLagMs: 1 })), /:3: time .* is earlier than the line before .*; sort the file by time/));
  it("a line no log group takes", () => expectBad(new LogFile().raw(0, JSON.stringify({ time: at(0), event: "db_connectivity_failure" })), /:1: event "db_connectivity_failure" is written by api and worker; add "@log"/));
  it("an unknown @log", () => expectBad(new LogFile().raw(0, JSON.stringify({ time: at(0), "@log": "frontend", event: "x" })), /:1: "@log" is "frontend", which is none of the plan's log groups/));
});

describe("odd lines name the file and line", () => {
  const line = (time: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ time, event: "worker_lag", workerLagMs: 1, ...extra });

  it("a line that is JSON null, an array or a number says what it got", () => {
    expectBad(new LogFile().lag(0, 2, 1).raw(1, "null"), /:2: got JSON null, not an object; each line must be one JSON object/);
    expectBad(new LogFile().raw(0, "[1]"), /:1: got JSON an array, not an object/);
    expectBad(new LogFile().raw(0, "42"), /:1: got JSON a number, not an object/);
  });

  it("a time that is not ISO 8601 with a zone, or names a day the month lacks", () => {
    for (const time of ["Nov 30 2026", "2026-11-30 10:00:00", "2026-11-30T10:00:00", "2026-11-30", "2026-02-30T10:00:00Z", 1796032800000]) {
      expectBad(new LogFile().raw(0, line(time)), new RegExp(`:1: "time" must be an ISO 8601 date and time with a zone, .*got ${JSON.stringify(JSON.stringify(time)).slice(1, -1)}$`));
    }
  });

  it("takes ISO 8601 times with an offset, and reads them in UTC", () => {
    const offset = new LogFile().raw(0, line("2026-11-30T11:00:00+01:00")).raw(1, line("2026-11-30T10:01:00Z")).raw(2, line("2026-11-30T10:02:30.5Z"));
    const result = replay(offset);
    expect(transitions(result, "page-worker-lag")[0]?.at).toBe(at(1));
  });

  it("an @log that is not a string", () => {
    expectBad(new LogFile().lag(0, 2, 1).raw(1, line(at(1), { "@log": 123 })), /:2: "@log" must be a string naming the log group \(.*\bapi or worker\b.*, or its full name\), got 123/);
    expectBad(new LogFile().raw(0, line(at(0), { "@log": null })), /:1: "@log" must be a string .*got null/);
  });

  it("a metrics row whose time is not ISO 8601", () => {
    const metrics = new MetricsFile().series(0, 2, "AWS/Route53", "HealthCheckStatus", "", () => 1);
    const file = metrics.write(dir, "bad-time.csv");
    writeFileSync(file, `${readFileSync(file, "utf8")}Nov 30 2026 10:05,AWS/Route53,HealthCheckStatus,,1\n`);
    expect(() => replayFiles(plan, new LogFile().lag(0, 3, 1).write(dir, "bad-time.jsonl"), file)).toThrow(/bad-time\.csv:4: time "Nov 30 2026 10:05" is not an ISO 8601 date and time with a zone/);
  });
});

describe(`a replay covers at most ${MAX_REPLAY_DAYS} days`, () => {
  const day = 24 * 60;
  const lagLine = (minute: number, time = at(minute)) => JSON.stringify({ time, event: "worker_lag", workerLagMs: 1 });

  it(`replays exactly ${MAX_REPLAY_DAYS} days from the first line to the last`, () => {
    const result = replay(new LogFile().lag(0, 10, 1000).raw(MAX_REPLAY_DAYS * day, lagLine(MAX_REPLAY_DAYS * day)));
    expect(transitions(result, "page-worker-lag").at(-1)?.at).toBe(at(MAX_REPLAY_DAYS * day + 1));
  });

  it("refuses one minute more, naming the line that set the span, the first line and the fix, before evaluating anything", () => {
    const logs = new LogFile().lag(0, 3, 1000).raw(MAX_REPLAY_DAYS * day + 1, lagLine(MAX_REPLAY_DAYS * day + 1));
    expectBad(
      logs,
      new RegExp(`logs-\\d+\\.jsonl:4: time ${at(MAX_REPLAY_DAYS * day + 1)} is 31 days 0 h 1 min after \\S+logs-\\d+\\.jsonl:1 \\(${at(0, 30)}\\); one replay covers at most 31 days\\. Correct the timestamp if it is mistyped, or split the file`),
    );
  });

  it("refuses a mistyped year (3026) and the last time JavaScript represents, which would otherwise allocate centuries of minutes", () => {
    const mistyped = new LogFile().lag(0, 2, 1000).raw(2, lagLine(2, at(2).replace("2026", "3026")));
    expect(() => replay(mistyped)).toThrow(/:3: time 3026-11-30T10:02:00\.000Z is 365,242 days after \S+:1 /);
    expect(() => replay(new LogFile().lag(0, 2, 1000).raw(2, lagLine(2, "+275760-09-13T00:00:00.000Z")))).toThrow(/:3: time \+275760-09-13T00:00:00\.000Z is [\d,]+ days after/);
  });

  it("counts --metrics rows in the span, naming the row and the log line at the other end", () => {
    const metrics = new MetricsFile().series(-MAX_REPLAY_DAYS * day - 10, -MAX_REPLAY_DAYS * day - 9, "AWS/Route53", "HealthCheckStatus", "", () => 1);
    expectBad(new LogFile().lag(0, 3, 1000), /metrics-\d+\.csv:2: time \S+ is 31 days 0 h 12 min before \S+logs-\d+\.jsonl:3 \(/, metrics);
  });
});

describe("the bytes of a log file", () => {
  const lagLine = (minute: number, extra = "") => `{"time":"${at(minute)}","event":"worker_lag","workerLagMs":1${extra}}`;

  it("refuses bytes that are not UTF-8 (a Latin-1 export), naming the line", () => {
    const file = path.join(dir, "latin1.jsonl");
    writeFileSync(file, Buffer.concat([Buffer.from(`${lagLine(0)}\n${lagLine(1)}\n`), Buffer.from(`${lagLine(2, ',"note":"caf\u00e9"')}\n`, "latin1")]));
    expect(() => replayFiles(plan, file)).toThrow(new ReplayInputError(`${file}:3: not UTF-8 text (Latin-1 or Windows-1252?); convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8 ${file}`));
  });

  it("reads a byte-order mark, characters cut by the 4 MiB chunks and a line longer than a chunk", () => {
    const file = path.join(dir, "chunks.jsonl");
    const lines: string[] = [];
    // Enough two-byte characters that some straddle each 4 MiB boundary whatever the line lengths.
    for (let m = 0; m < 40; m++) lines.push(lagLine(m, `,"note":"${"é".repeat(60_000 + m)}"`));
    lines.push(lagLine(40, `,"note":"${"x".repeat(9 * 1024 * 1024)}"`), lagLine(41));
    writeFileSync(file, `\uFEFF${lines.join("\n")}`);
    const seen: { line: number; length: number; time: string }[] = [];
    forEachLine(file, (text, line) => seen.push({ line, length: text.length, time: (JSON.parse(text) as { time: string }).time }));
    expect(seen).toEqual(lines.map((text, i) => ({ line: i + 1, length: text.length, time: at(i) })));
  });
});
