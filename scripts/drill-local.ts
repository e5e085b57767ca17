import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { InvalidArgumentError } from "commander";
import { Listr } from "listr2";
import { createCommand, exitWhenDrained, reportFailure } from "../ops/lib/cli";
import { renderTable } from "../ops/lib/report";
import { isoWeek, runDrillSpec, takeLocalSnapshot, type DrillRecord, type DrillStep } from "../ops/restore";
import { SAMPLE_DOMAIN_CHECKS, SAMPLE_TABLES, seedSampleDatabase } from "../ops/restore/sample";
import { startPostgres, type PostgresServer } from "../tests/support/postgres";

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

const elapsed = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

async function main(): Promise<number> {
  const options = createCommand("drill:local", "Run the weekly restore drill against a throwaway local PostgreSQL")
    .option("--users <n>", "sample users to seed (about 7 rows each)", (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`--users takes a whole number of at least 1, got "${v}"`);
      return n;
    }, 2000)
    .parse(process.argv.slice(2), { from: "user" })
    .opts<{ users: number }>();

  const started = performance.now();
  let pg: PostgresServer | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= pg ? pg.stop() : Promise.resolve());
  // Ctrl-C: the whole server is throwaway, so stopping it removes the temporary database with it.
  // A second Ctrl-C waits too: killing the process mid-stop would leave the server and its data behind.
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopping the local PostgreSQL and removing its data\n`);
    stop().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    let record: DrillRecord | undefined;
    const setup = new Listr(
      [
        {
          title: "Start a throwaway PostgreSQL",
          task: async (_ctx: unknown, task: { title: string }) => {
            pg = await startPostgres();
            task.title = `PostgreSQL on 127.0.0.1:${pg.port} (${elapsed(started)})`;
          },
        },
        {
          title: `Seed the sample schema (${options.users} users)`,
          task: async (_ctx: unknown, task: { title: string }) => {
            const t = performance.now();
            const rows = await seedSampleDatabase(await (pg as PostgresServer).createDatabase("app"), options.users);
            task.title = `Seeded ${rows} rows: ${SAMPLE_TABLES.join(", ")} (${elapsed(t)})`;
          },
        },
        {
          title: "Take a snapshot (stands in for the nightly automated snapshot)",
          task: async (_ctx: unknown, task: { title: string }) => {
            const name = await takeLocalSnapshot((pg as PostgresServer).url(), "app");
            task.title = `Snapshot ${name}`;
          },
        },
      ],
      { registerSignalListeners: false },
    );
    await setup.run();
    const server = pg as unknown as PostgresServer;
    const records = await mkdtemp(path.join(tmpdir(), "drill-records-"));

    const done = new Map(STEPS.map(({ step }) => [step, deferred()]));
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
      (error: unknown) => Promise.reject(error),
    );
    const steps = new Listr(
      STEPS.map(({ step, title }) => ({
        title,
        task: async (_ctx: unknown, task: { title: string }) => {
          const detail = await Promise.race([done.get(step)?.promise, failed]);
          const t = startedAt.get(step);
          task.title = `${title}${detail ? `: ${detail}` : ""}${t === undefined ? "" : ` (${elapsed(t)})`}`;
        },
      })),
      { registerSignalListeners: false },
    );
    try {
      await Promise.all([steps.run(), drill]);
    } catch (error) {
      process.stderr.write(`\n${(error as Error).message}\n`);
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
    await stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => exitWhenDrained(reportFailure("drill:local", error, false)),
);
