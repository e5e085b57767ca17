import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replayFiles } from "../../../ops/alarms/cli";
import type { PlanDocument } from "../../../ops/alarms/plan";
import { ReplayInputError, type ReplayResult, type Transition } from "../../../ops/alarms/replay";
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
  const expectBad = (logs: LogFile, message: RegExp) => {
    let error: unknown;
    try {
      replay(logs);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ReplayInputError);
    expect((error as Error).message).toMatch(message);
  };

  it("a line that is not JSON", () => expectBad(new LogFile().lag(0, 3, 1).raw(1, "GET /health 200"), /logs-\d+\.jsonl:2: not JSON \(GET \/health 200\)/));
  it("a time going backwards", () => expectBad(new LogFile().lag(0, 3, 1).raw(2, JSON.stringify({ time: at(0), event: "worker_lag", workerLagMs: 1 })), /:3: time .* is earlier than the line before .*; sort the file by time/));
  it("a line no log group takes", () => expectBad(new LogFile().raw(0, JSON.stringify({ time: at(0), event: "db_connectivity_failure" })), /:1: event "db_connectivity_failure" is written by api and worker; add "@log"/));
  it("an unknown @log", () => expectBad(new LogFile().raw(0, JSON.stringify({ time: at(0), "@log": "frontend", event: "x" })), /:1: "@log" is "frontend", which is none of the plan's log groups/));
});
