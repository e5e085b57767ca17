import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { Client, escapeIdentifier } from "pg";
import { planChecks, readCatalog } from "../../ops/integrity/checks";
import { SAMPLE_DOMAIN_CHECKS, SAMPLE_TABLES, seedSampleDatabase } from "../../ops/restore/sample";
import { benchServer, type BenchServer } from "./integrity/server";
import type { BenchRow } from "./types";

/**
 * Integrity validation benchmarks (issue 15), each against a floor measured in the same run:
 * - the serial floor: the validator's own planned statements run one after another on one
 *   connection, each check in its own read-only transaction, as a DBA would paste them into psql
 *   (index checks first, so the uniqueness checks plan as they do in the validator);
 *   target: full validation at most 0.6x of it, on at least 2 M rows;
 * - a `count(*)` of every table, one after another on one connection (the earlier floor), reported
 *   as a ratio only;
 * - scale: 20 M rows, at most 11x the 2 M figure, and the validator's own peak RSS (measured in a
 *   child process that runs only the validation) under 150 MB. The 2 M figure for this ratio is
 *   measured alternately with the 20 M runs, so both see the same neighbours' load.
 * Knobs: `INTEGRITY_BENCH_DATA=<dir>` keeps the seeded databases for the next run
 * (scripts/bench/integrity/server.ts); `INTEGRITY_BENCH_ONLY=scale` measures the scale rows only.
 */

const ROOT = path.resolve(__dirname, "../..");
const USERS_2M = 300_000; // about 7 rows per user
const USERS_20M = 3_000_000;
const SAMPLES = 5;
const SCALE_SAMPLES = 2;

async function withClient<T>(url: string, run: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

async function timedMs(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/** The validator's planned checks, run serially on one connection (the plan is read outside the timing). */
async function serialFloor(url: string): Promise<number> {
  return withClient(url, async (client) => {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const catalog = await readCatalog(client);
    await client.query("ROLLBACK");
    const checks = planChecks(catalog, {
      expectedTables: [...SAMPLE_TABLES],
      migrationsTable: undefined,
      domainChecks: SAMPLE_DOMAIN_CHECKS,
      referenceCounts: undefined,
      tolerancePercent: 0,
      heapAllIndexed: false,
    });
    const ordered = [...checks.filter((c) => c.category === "indexes"), ...checks.filter((c) => c.category !== "indexes")];
    return timedMs(async () => {
      for (const check of ordered) {
        await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL work_mem = '64MB'");
        const failed = (await check.run(client)).filter((o) => o.status === "fail" || o.status === "skip");
        await client.query("ROLLBACK");
        if (failed.length > 0) throw new Error(`the seeded database should pass: ${failed.map((o) => `${o.check}: ${o.detail}`).join("; ")}`);
      }
    });
  });
}

async function countScan(url: string): Promise<number> {
  return withClient(url, (client) =>
    timedMs(async () => {
      for (const table of SAMPLE_TABLES) await client.query(`SELECT count(*) FROM ${table}`);
    }),
  );
}

/** One validation in a child process: its wall time and its own peak RSS. */
function measure(url: string): { ms: number; maxRssMb: number } {
  const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
  const run = spawnSync(tsx, ["scripts/bench/integrity/measure.ts", url], { cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 20 });
  if (run.status !== 0) throw new Error(`measure.ts exited with ${run.status}: ${run.stderr}`);
  const result = JSON.parse(run.stdout) as { ms: number; maxRssMb: number; exitCode: number; summary: string; slowest: string[] };
  if (result.exitCode !== 0) throw new Error(`the seeded database should pass: ${result.summary}`);
  process.stderr.write(`    validation ${Math.round(result.ms)} ms, ${result.maxRssMb.toFixed(0)} MB; slowest: ${result.slowest.join(", ")}\n`);
  return result;
}

/** The sample database `name` with `users` users, seeded unless a kept one exists (seeded under another name, renamed when complete). */
async function seeded(server: BenchServer, name: string, users: number): Promise<{ url: string; label: string }> {
  if (!(await server.has(name))) {
    const seeding = `${name}_seeding`;
    if (await server.has(seeding)) await withClient(server.url("postgres"), (client) => client.query(`DROP DATABASE ${escapeIdentifier(seeding)}`));
    const url = await server.createDatabase(seeding);
    await seedSampleDatabase(url, users);
    await withClient(url, (client) => client.query("CREATE EXTENSION amcheck"));
    await withClient(server.url("postgres"), (client) => client.query(`ALTER DATABASE ${escapeIdentifier(seeding)} RENAME TO ${escapeIdentifier(name)}`));
  }
  const url = server.url(name);
  const counts = await withClient(url, (client) => client.query<{ n: string }>(`SELECT (${SAMPLE_TABLES.map((t) => `(SELECT count(*) FROM ${t})`).join(" + ")})::text AS n`));
  return { url, label: `${(Number(counts.rows[0]?.n ?? 0) / 1e6).toFixed(1)}M rows` };
}

export async function benchIntegrity(): Promise<BenchRow[]> {
  const pg = await benchServer();
  const scaleOnly = process.env.INTEGRITY_BENCH_ONLY === "scale";
  try {
    const small = await seeded(pg, "integrity_2m", USERS_2M);
    const scan: number[] = [];
    const floor: number[] = [];
    const validation: number[] = [];
    const rss: number[] = [];
    // Interleaved, so a neighbour's load on the shared machine weighs on all three alike.
    for (let i = 0; i < (scaleOnly ? 0 : SAMPLES); i++) {
      scan.push(await countScan(small.url));
      floor.push(await serialFloor(small.url));
      const m = measure(small.url);
      validation.push(m.ms);
      rss.push(m.maxRssMb);
    }
    const floorName = `serial floor: the validator's planned statements one after another on one connection, ${small.label}`;
    const scanName = `count(*) of every table, one connection, ${small.label}`;
    const validationName = `integrity validation, ${small.label}`;
    const rows: BenchRow[] = scaleOnly ? [] : [
      { name: scanName, samples: scan, unit: "ms" },
      { name: floorName, samples: floor, unit: "ms" },
      { name: validationName, samples: validation, unit: "ms", baseline: floorName, target: "<= 0.6x serial floor", meets: (ms, base) => ms <= 0.6 * base },
      { name: `integrity validation vs count(*), ${small.label}`, samples: validation, unit: "ms", baseline: scanName },
      { name: `validator peak RSS, ${small.label}`, samples: rss, unit: "MB", target: "< 150 MB", meets: (mb) => mb < 150 },
    ];

    const large = await seeded(pg, "integrity_20m", USERS_20M);
    const scale: number[] = [];
    const scaleRss: number[] = [];
    const beside = [measure(small.url).ms];
    for (let i = 0; i < SCALE_SAMPLES; i++) {
      const m = measure(large.url);
      scale.push(m.ms);
      scaleRss.push(m.maxRssMb);
      beside.push(measure(small.url).ms);
    }
    const besideName = `integrity validation, ${small.label}, alternating with the ${large.label} runs`;
    rows.push(
      { name: besideName, samples: beside, unit: "ms" },
      { name: `integrity validation, ${large.label}`, samples: scale, unit: "ms", baseline: besideName, target: "<= 11x the 2M figure", meets: (ms, base) => ms <= 11 * base },
      { name: `validator peak RSS, ${large.label}`, samples: scaleRss, unit: "MB", target: "< 150 MB", meets: (mb) => mb < 150 },
    );
    return rows;
  } finally {
    await pg.stop();
  }
}
