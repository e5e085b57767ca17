import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Listr } from "listr2";
import { createCommand, exitWhenDrained, reportFailure } from "../ops/lib/cli";
import { renderTable } from "../ops/lib/report";
import { isoWeek, runDrillSpec, takeLocalSnapshot, type DrillRecord, type DrillStep } from "../ops/restore";
import { SAMPLE_DOMAIN_CHECKS, SAMPLE_TABLES, sampleUsersOption, seedSampleDatabase } from "../ops/restore/sample";
import { startPostgres, takeOverSignals, type PostgresServer } from "../tests/support/postgres";

/**
 * `npm run drill:local`: the whole weekly drill on this machine, from a fresh clone. It starts a
 * throwaway PostgreSQL, seeds the sample schema, takes a snapshot (standing in for the nightly
 * automated one), runs the drill with progress, prints the RTO and the integrity table, and removes
 * everything, also on Ctrl-C. The checks go through the same validation handler the in-VPC function
 * runs (ops/restore/validation.ts), in this process.
 */

const STEPS: { step: DrillStep; title: string }[] = [
  { step: "sweep", title: "Sweep temporary databases an earlier run left" },
  { step: "find", title: "Find the latest snapshot" },
  { step: "restore", title: "Restore it into a temporary database" },
  { step: "available", title: "Wait until it is available" },
  { step: "validate", title: "Validate: readiness (connect, SELECT 1, migrations) and integrity (read-only)" },
  { step: "cleanup", title: "Delete the temporary database" },
];

interface Deferred {
  promise: Promise<string | undefined>;
  resolve(detail?: string): void;
}
function deferred(): Deferred {
  let resolve: (detail?: string) => void = () => undefined;
  const promise = new Promise<string | undefined>((r) => (resolve = r));
  return { promise, resolve };
}

/** What a step's task may do with its line: retitle it, or mark it skipped with a reason. */
interface StepTask {
  title: string;
  skip(message?: string): void;
}

const elapsed = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

async function main(): Promise<number> {
  const options = createCommand("drill:local", "Run the weekly restore drill against a throwaway local PostgreSQL")
    .option("--users <n>", "sample users to seed (about 7 rows each)", sampleUsersOption("--users"), 2000)
    .parse(process.argv.slice(2), { from: "user" })
    .opts<{ users: number }>();

  const started = performance.now();
  let pg: PostgresServer | undefined;
  let stopped: Promise<void> | undefined;
  // Stops the server once it exists; called again after an interrupted start, it stops the late one.
  const stop = () => {
    if (pg && !stopped) stopped = pg.stop();
    return stopped ?? Promise.resolve();
  };
  // Ctrl-C: the whole server is throwaway, so stopping it removes the temporary database with it.
  // Every step still running ends as "interrupted" rather than as the failure the stopping server
  // causes under it; a second Ctrl-C waits too: exiting mid-stop would leave the server's data behind.
  let interrupted: NodeJS.Signals | undefined;
  const interruption = deferred();
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      process.stderr.write(`\n${signal}: still removing the throwaway PostgreSQL's data; one moment\n`);
      return;
    }
    interrupted = signal;
    process.stderr.write(`\n${signal}: interrupted; stopping the throwaway PostgreSQL and removing its data\n`);
    interruption.resolve("interrupted");
    void stop();
  };
  await takeOverSignals();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  /** Runs a step's work until it finishes or the run is interrupted (then the work's failure is not reported). */
  const untilInterrupted = async (task: StepTask, work: () => Promise<string>): Promise<void> => {
    const running = work();
    running.catch(() => undefined);
    const title = await Promise.race([running, interruption.promise.then(() => undefined)]);
    if (title === undefined) task.skip("interrupted");
    else task.title = title;
  };
  const interruptedExit = (records?: string) => {
    const signal = interrupted as NodeJS.Signals;
    process.stderr.write(`drill:local: interrupted by ${signal} before the drill finished; no record was written; the throwaway PostgreSQL${records ? " and the records folder are" : " is"} removed\n`);
    return signal === "SIGINT" ? 130 : 143;
  };

  let starting: Promise<PostgresServer> | undefined;
  let records: string | undefined;
  try {
    let record: DrillRecord | undefined;
    const setup = new Listr(
      [
        {
          title: "Start a throwaway PostgreSQL",
          task: (_ctx: unknown, task: StepTask) =>
            untilInterrupted(task, async () => {
              starting = startPostgres();
              pg = await starting;
              return `PostgreSQL on 127.0.0.1:${pg.port} (${elapsed(started)})`;
            }),
        },
        {
          title: `Seed the sample schema (${options.users} users)`,
          task: (_ctx: unknown, task: StepTask) =>
            untilInterrupted(task, async () => {
              const t = performance.now();
              const rows = await seedSampleDatabase(await (pg as PostgresServer).createDatabase("app"), options.users);
              return `Seeded ${rows} rows: ${SAMPLE_TABLES.join(", ")} (${elapsed(t)})`;
            }),
          skip: () => (interrupted ? "interrupted" : false),
        },
        {
          title: "Take a snapshot (stands in for the nightly automated snapshot)",
          task: (_ctx: unknown, task: StepTask) => untilInterrupted(task, async () => `Snapshot ${await takeLocalSnapshot((pg as PostgresServer).url(), "app")}`),
          skip: () => (interrupted ? "interrupted" : false),
        },
      ],
      { registerSignalListeners: false },
    );
    await setup.run();
    if (interrupted) return interruptedExit();
    const server = pg as unknown as PostgresServer;
    records = await mkdtemp(path.join(tmpdir(), "drill-records-"));

    const done = new Map(STEPS.map(({ step }) => [step, deferred()]));
    void interruption.promise.then(() => {
      for (const d of done.values()) d.resolve("interrupted");
    });
    const startedAt = new Map<DrillStep, number>();
    const drill = runDrillSpec(
      {
        window: isoWeek(new Date()),
        mode: "snapshot",
        temporaryPrefix: "drill",
        backend: { kind: "local", adminUrl: server.url(), sourceDatabase: "app" },
        checks: { expectedTables: [...SAMPLE_TABLES], tolerancePercent: 0, domainChecks: SAMPLE_DOMAIN_CHECKS },
        publish: { directory: records },
      },
      {
        onStep: (step, state, detail) => {
          if (state === "start") startedAt.set(step, performance.now());
          else done.get(step)?.resolve(detail);
        },
      },
    ).then((r) => (record = r));
    // A failed drill is a result: the steps it never reached are marked skipped.
    void drill.then(() => {
      for (const d of done.values()) d.resolve("skipped");
    }, () => undefined);
    const failed = drill.then(
      () => new Promise<never>(() => undefined),
      (error: unknown) => (interrupted ? new Promise<never>(() => undefined) : Promise.reject(error)),
    );
    const steps = new Listr(
      STEPS.map(({ step, title }) => ({
        title,
        task: async (_ctx: unknown, task: StepTask) => {
          const detail = await Promise.race([done.get(step)?.promise, failed]);
          if (detail === "interrupted") return task.skip("interrupted");
          const t = startedAt.get(step);
          task.title = `${title}${detail ? `: ${detail}` : ""}${t === undefined ? "" : ` (${elapsed(t)})`}`;
        },
      })),
      { registerSignalListeners: false },
    );
    // Interrupted, the drill's own ending does not matter (its server is gone): only the steps' list is awaited.
    const [, outcome] = await Promise.allSettled([steps.run(), Promise.race([drill, interruption.promise])]);
    if (interrupted) return interruptedExit(records);
    if (outcome.status === "rejected") {
      process.stderr.write(`\n${(outcome.reason as Error).message}\n`);
      return 1;
    }
    const result = record as DrillRecord;
    process.stdout.write(`\n${renderTable(result.results, "Restored database: readiness and integrity")}\n\n`);
    process.stdout.write(
      result.rtoSeconds === undefined
        ? "RTO: not recorded (the checks did not pass)\n"
        : `RTO: ${result.rtoSeconds.toFixed(1)} s (restore requested until the checks passed)\n`,
    );
    process.stdout.write(`Notes:\n${result.notes.map((n) => `  - ${n}`).join("\n")}\n`);
    process.stdout.write(`Drill ${result.passed ? "PASSED" : "FAILED"} in ${elapsed(started)} overall; record in ${records}\n`);
    return result.passed ? 0 : 1;
  } finally {
    // A server still starting when Ctrl-C came is stopped once it is up, not left running.
    await starting?.catch(() => undefined);
    await stop();
    if (interrupted && records) await rm(records, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => exitWhenDrained(reportFailure("drill:local", error, false)),
);
