import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../../../stackFiles";
import { runProgram } from "../../support/harness";
import { runChild, type ChildRun } from "../../support/spawn";
import { LogFile, scratchDir } from "./logFiles";

/** `npm run -s alarms:replay -- ...` as the README writes it: exit codes, --help, did-you-mean, one JSON document. */

function npm(args: string[]): Promise<ChildRun> {
  return runChild("npm", ["run", "-s", "alarms:replay", "--", ...args]);
}

let dir: string;
let logs: string;
let planFile: string;
beforeAll(async () => {
  dir = scratchDir();
  logs = new LogFile().lag(0, 10, 1000).traffic(0, 10, 20).write(dir);
  const result = await runProgram({ stack: "staging" });
  planFile = path.join(dir, "plan.json");
  writeFileSync(planFile, JSON.stringify({ stack: "staging", resources: result.resources.map((r) => ({ type: r.type, name: r.name, parent: r.parentName ?? null, inputs: r.inputs })) }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("npm run alarms:replay", () => {
  it("replays a team's own stack name (dev) from its offline plan", async () => {
    const devPlan = path.join(dir, "dev-plan.json");
    const dev = await runProgram({ stack: "dev", stackFile: path.join(ROOT, "Pulumi.staging.yaml") });
    writeFileSync(devPlan, JSON.stringify({ stack: "dev", resources: dev.resources.map((r) => ({ type: r.type, name: r.name, inputs: r.inputs })) }));
    const run = await npm(["--stack", "dev", "--logs", logs, "--plan", devPlan, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as { stack: string; alarms: { name: string }[] };
    expect(doc.stack).toBe("dev");
    expect(doc.alarms.map((a) => a.name)).toContain("runbook-dev-page-api-5xx-rate");
  });

  it("prints exactly one JSON document listing every alarm of the stack's plan, built from the program", async () => {
    const run = await npm(["--stack", "staging", "--logs", logs, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as { stack: string; alarms: { name: string; transitions: { at: string; from: string; to: string; notifies: string[] }[] }[] };
    expect(Object.keys(doc)).toEqual(["stack", "alarms"]);
    expect(doc.stack).toBe("staging");
    const names = doc.alarms.map((a) => a.name);
    expect(names).toContain("runbook-staging-page-api-5xx-rate");
    expect(names).toContain("runbook-staging-ticket-webhook-invalid-signature-spike");
    for (const a of doc.alarms) {
      expect(Object.keys(a)).toEqual(["name", "transitions"]);
      for (const t of a.transitions) expect(Object.keys(t)).toEqual(["at", "from", "to", "notifies"]);
    }
    expect(run.stderr).toContain("APPROXIMATED");
  });

  it("names the file and line of a bad line and exits 2, with one JSON document under --json", async () => {
    const bad = path.join(dir, "bad.jsonl");
    writeFileSync(bad, `${JSON.stringify({ time: "2026-11-30T10:00:00Z", event: "worker_lag", workerLagMs: 1 })}\nnot json\n`);
    const run = await npm(["--stack", "staging", "--logs", bad, "--plan", planFile, "--json"]);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({ command: "alarms:replay", exitCode: 2, error: expect.stringMatching(/bad\.jsonl:2: not JSON \(not json\)/) });
    expect(run.stderr).toMatch(/^alarms:replay: .*bad\.jsonl:2: not JSON/m);
  });

  it("refuses an empty log file and a directory, naming the path, exit 2 (an empty export is not a clean bill of health)", async () => {
    const empty = path.join(dir, "empty.jsonl");
    writeFileSync(empty, "\n\n");
    const none = await npm(["--stack", "staging", "--logs", empty, "--plan", planFile, "--json"]);
    expect(none.code).toBe(2);
    expect((JSON.parse(none.stdout) as { error: string }).error).toMatch(/empty\.jsonl: holds no log lines/);
    const directory = await npm(["--stack", "staging", "--logs", dir, "--plan", planFile]);
    expect(directory.code).toBe(2);
    expect(directory.stderr).toContain(`${dir}: is not a file`);
  });

  it("refuses a stack without a stack file and suggests a misspelt flag, exit 2; --help exits 0", async () => {
    const unknown = await npm(["--stack", "qa", "--logs", logs, "--json"]);
    expect(unknown.code).toBe(2);
    expect((JSON.parse(unknown.stdout) as { error: string }).error).toBe(
      "--stack qa: no Pulumi.qa.yaml here; the stacks are production, staging (or pass --plan <file> with that stack's offline plan)",
    );
    const typo = await npm(["--stack", "staging", "--logs", logs, "--metric", "rds.csv"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("(Did you mean --metrics?)");
    const help = await npm(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--metrics <file>");
  });
});

describe("npm run alarms:replay with bad input exits 2 with one JSON document naming the file", () => {
  const error = (run: ChildRun) => {
    expect(run.code, run.stderr).toBe(2);
    const doc = JSON.parse(run.stdout) as { command: string; exitCode: number; error: string };
    expect(doc).toMatchObject({ command: "alarms:replay", exitCode: 2 });
    return doc.error;
  };

  it("a mistyped year on the second line (3026): refused before the replay allocates its minutes", async () => {
    const line = JSON.stringify({ time: "2026-11-30T10:00:00.000Z", event: "http_request", requestId: "r", method: "GET", path: "/x", status: 200, durationMs: 1 });
    const gap = path.join(dir, "gap.jsonl");
    writeFileSync(gap, `${line}\n${line.replace("2026-11-30", "3026-11-30")}\n`);
    expect(error(await npm(["--stack", "staging", "--plan", planFile, "--logs", gap, "--json"]))).toBe(
      `${gap}:2: time 3026-11-30T10:00:00.000Z is 365,242 days after ${gap}:1 (2026-11-30T10:00:00.000Z); one replay covers at most 31 days. Correct the timestamp if it is mistyped, or split the file into replays of at most 31 days each`,
    );
  });

  it("a plan file of the wrong shape names --plan and each bad path", async () => {
    const nulls = path.join(dir, "nulls-plan.json");
    writeFileSync(nulls, JSON.stringify({ stack: "staging", resources: [1, null] }));
    expect(error(await npm(["--plan", nulls, "--logs", logs, "--json"]))).toBe(
      `--plan ${nulls}: not an offline plan: resources[0]: expected object, received number; resources[1]: expected object, received null; write it with npm run -s start -- --stack <stack> --json > ${nulls}`,
    );
    const noInputs = path.join(dir, "no-inputs-plan.json");
    writeFileSync(noInputs, JSON.stringify({ stack: "staging", resources: [{ type: "aws:cloudwatch/logGroup:LogGroup", name: "api" }] }));
    expect(error(await npm(["--stack", "staging", "--plan", noInputs, "--logs", logs, "--json"]))).toMatch(
      new RegExp(`^--plan ${noInputs}: not an offline plan: resources\\[0\\]\\.inputs: expected record, received undefined; write it with npm run -s start -- --stack staging --json`),
    );
  });

  it("refuses a pipe given as --plan instead of reading it forever (exit 2)", async () => {
    const pipe = path.join(dir, "plan.fifo");
    execFileSync("mkfifo", [pipe]);
    expect(error(await npm(["--plan", pipe, "--logs", logs, "--json"]))).toBe(
      `--plan ${pipe}: not a regular file (a device or a pipe); write it with npm run -s start -- --stack <stack> --json > ${pipe}`,
    );
    rmSync(pipe);
  });

  it("a plan whose resource inputs the replay cannot read names --plan and the resource", async () => {
    const doc = JSON.parse(readFileSync(planFile, "utf8")) as { stack: string; resources: { type: string; inputs: Record<string, unknown> }[] };
    const alarm = doc.resources.find((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm" && Array.isArray(r.inputs.metricQueries)) as { name?: string; inputs: Record<string, unknown> };
    alarm.inputs.metricQueries = [null];
    const broken = path.join(dir, "broken-plan.json");
    writeFileSync(broken, JSON.stringify(doc));
    expect(error(await npm(["--plan", broken, "--logs", logs, "--json"]))).toBe(`--plan ${broken}: plan resource ${alarm.name}: metricQueries[0] must be an object, got null`);
  });

  it.each([
    ["a period CloudWatch refuses", { period: 0 }, "period 0 s is not one CloudWatch accepts (10, 20, 30 or a multiple of 60)"],
    ["an evaluation range over a day", { period: 300, evaluationPeriods: 300 }, "period 300 s x evaluationPeriods 300 is more than CloudWatch's 86400 s evaluation range"],
    ["more datapoints than periods", { evaluationPeriods: 2, datapointsToAlarm: 3 }, "datapointsToAlarm 3 is not a whole number from 1 to evaluationPeriods (2)"],
  ])("a plan with %s names --plan and the alarm (exit 2), as PutMetricAlarm would refuse it", async (_, change, message) => {
    const doc = JSON.parse(readFileSync(planFile, "utf8")) as { stack: string; resources: { type: string; name: string; inputs: Record<string, unknown> }[] };
    const alarm = doc.resources.find((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm" && typeof r.inputs.period === "number") as { name: string; inputs: Record<string, unknown> };
    Object.assign(alarm.inputs, change);
    const bad = path.join(dir, "window-plan.json");
    writeFileSync(bad, JSON.stringify(doc));
    expect(error(await npm(["--plan", bad, "--logs", logs, "--json"]))).toBe(`--plan ${bad}: plan resource ${alarm.name}: ${message}`);
  });
});

describe("npm run alarms:replay --plan takes the stack from the plan", () => {
  it("replays without --stack, and refuses a --stack the plan is not of", async () => {
    const run = await npm(["--plan", planFile, "--logs", logs, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as { stack: string }).stack).toBe("staging");
    const other = await npm(["--stack", "production", "--plan", planFile, "--logs", logs, "--json"]);
    expect(other.code).toBe(2);
    expect((JSON.parse(other.stdout) as { error: string }).error).toBe(`--plan ${planFile} is the plan of stack "staging", not "production"; leave --stack out to replay the plan's stack`);
  });

  it("still requires --stack without --plan", async () => {
    const run = await npm(["--logs", logs, "--json"]);
    expect(run.code).toBe(2);
    expect((JSON.parse(run.stdout) as { error: string }).error).toBe("--stack is required, such as --stack production or --stack staging (or --plan <file>)");
  });
});
