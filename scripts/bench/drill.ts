import { Client } from "pg";
import { validateIntegrity } from "../../ops/integrity";
import { planChecks, readCatalog, type CheckCategory } from "../../ops/integrity/checks";
import { localBackend, localTarget, runDrill, takeLocalSnapshot, validate, type Validator } from "../../ops/restore";
import { VALIDATION_TIMEOUT_SECONDS } from "../../ops/restore/limits";
import { SAMPLE_DOMAIN_CHECKS, SAMPLE_TABLES, seedSampleDatabase } from "../../ops/restore/sample";
import { startPostgres } from "../../tests/support/postgres";
import type { BenchRow } from "./types";

/**
 * Restore drill benchmarks, each against its floor measured in the same run:
 * - integrity validation of a seeded database of at least 2 million rows vs a plain sequential scan
 *   of the same tables, reported as a ratio only: its target is against the validator's serial
 *   floor, in the integrity topic (issue 15 retired the "at most 2x a scan" target);
 * - the validation handler the in-VPC function runs (readiness, amcheck, integrity), on the same
 *   database: it must finish within the function's 900 s limit with a 5x margin (at most 180 s);
 * - the local drill's RTO vs a bare database copy, CREATE DATABASE ... TEMPLATE (target: at most
 *   1.3x + 1 s), on the database `npm run drill:local` seeds.
 * Two more rows time single categories of the validator's own checks, on the floor's terms (one
 * backend, no parallel workers): the foreign-key orphan checks the issue requires, and the sample's
 * domain checks. Each alone is a lower bound of what any validation doing those checks costs.
 */

const LARGE_USERS = 300_000; // about 7 rows per user: 2.1 million rows
const DRILL_USERS = 2_000; // what drill:local seeds
const SAMPLES = 5; // the runner reports the median

async function exec(url: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Runs the validator's planned checks of one category, exactly as it plans them, on one backend. */
async function checksOfCategory(url: string, category: CheckCategory): Promise<{ ms: number; checks: number }> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    await client.query("SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL work_mem = '64MB'");
    const catalog = await readCatalog(client);
    const checks = planChecks(catalog, {
      expectedTables: [...SAMPLE_TABLES],
      migrationsTable: "_prisma_migrations",
      domainChecks: SAMPLE_DOMAIN_CHECKS,
      referenceCounts: undefined,
      tolerancePercent: 0,
      heapAllIndexed: false,
    }).filter((c) => c.category === category);
    if (checks.length === 0) throw new Error(`no ${category} checks planned`);
    const ms = await timedMs(async () => {
      for (const check of checks) {
        const failed = (await check.run(client)).filter((o) => o.status === "fail");
        if (failed.length > 0) throw new Error(`the seeded database should pass: ${failed.map((o) => o.detail).join("; ")}`);
      }
    });
    return { ms, checks: checks.length };
  } finally {
    await client.query("ROLLBACK").catch(() => undefined);
    await client.end();
  }
}

async function timedMs(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

export async function benchDrill(): Promise<BenchRow[]> {
  const pg = await startPostgres();
  try {
    const large = await pg.createDatabase("large");
    const rows = await seedSampleDatabase(large, LARGE_USERS);
    await exec(large, "CREATE EXTENSION amcheck");
    const scan: number[] = [];
    const integrity: number[] = [];
    const orphans: number[] = [];
    const domain: number[] = [];
    const handler: number[] = [];
    let foreignKeys = 0;
    for (let i = 0; i < SAMPLES; i++) {
      // The floor: every table read once, front to back, one after another, by one backend without
      // parallel workers (2 shared cores make parallel scans' timings depend on the neighbours' load).
      scan.push(
        await timedMs(async () => {
          const client = new Client({ connectionString: large });
          await client.connect();
          try {
            await client.query(
              "SET max_parallel_workers_per_gather = 0; SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off",
            );
            for (const table of SAMPLE_TABLES) await client.query(`SELECT count(*) FROM ${table}`);
          } finally {
            await client.end();
          }
        }),
      );
      integrity.push(
        await timedMs(async () => {
          const report = await validateIntegrity({ connection: large, expectedTables: [...SAMPLE_TABLES], domainChecks: SAMPLE_DOMAIN_CHECKS });
          if (!report.passed) throw new Error(`the seeded database should pass: ${report.summary}`);
        }),
      );
      handler.push(
        await timedMs(async () => {
          const result = await validate({
            kind: "validate",
            mode: "restored",
            target: localTarget(large),
            checks: { expectedTables: [...SAMPLE_TABLES], domainChecks: SAMPLE_DOMAIN_CHECKS },
            budgetMs: VALIDATION_TIMEOUT_SECONDS * 1000,
          });
          if (!result.passed) throw new Error(`the seeded database should pass: ${result.summary}`);
        }),
      );
      const fk = await checksOfCategory(large, "foreign keys");
      orphans.push(fk.ms);
      foreignKeys = fk.checks;
      domain.push((await checksOfCategory(large, "domain checks")).ms);
    }

    const app = await pg.createDatabase("app");
    await seedSampleDatabase(app, DRILL_USERS);
    const snapshot = await takeLocalSnapshot(pg.url(), "app");
    const inProcess: Validator = (request) => validate(request);
    const copy: number[] = [];
    const rto: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      copy.push(await timedMs(() => exec(pg.url(), `CREATE DATABASE bare_copy TEMPLATE ${snapshot}`)) / 1000);
      await exec(pg.url(), "DROP DATABASE bare_copy");
      const record = await runDrill({
        backend: localBackend({ adminUrl: pg.url(), sourceDatabase: "app" }),
        mode: "snapshot",
        window: "2025-W03",
        temporaryId: `bench_drill_${i}`,
        validator: inProcess,
        checks: { expectedTables: [...SAMPLE_TABLES], domainChecks: SAMPLE_DOMAIN_CHECKS, referenceTarget: localTarget(app) },
      });
      if (record.rtoSeconds === undefined) throw new Error(`the drill should pass: ${record.integritySummary}`);
      rto.push(record.rtoSeconds);
    }
    const largeName = `${(rows / 1e6).toFixed(1)}M rows`;
    return [
      { name: `sequential scan of every table, ${largeName}`, samples: scan, unit: "ms" },
      {
        name: `integrity validation, ${largeName}`,
        samples: integrity,
        unit: "ms",
        baseline: `sequential scan of every table, ${largeName}`,
      },
      {
        name: `validation function handler (readiness, amcheck, integrity), ${largeName}`,
        samples: handler,
        unit: "ms",
        baseline: `sequential scan of every table, ${largeName}`,
        target: `<= ${VALIDATION_TIMEOUT_SECONDS / 5} s (the function's ${VALIDATION_TIMEOUT_SECONDS} s limit / 5)`,
        meets: (ms) => ms <= (VALIDATION_TIMEOUT_SECONDS / 5) * 1000,
      },
      {
        name: `foreign-key orphan checks alone (${foreignKeys}), one backend, ${largeName}`,
        samples: orphans,
        unit: "ms",
        baseline: `sequential scan of every table, ${largeName}`,
      },
      {
        name: `domain checks alone (${SAMPLE_DOMAIN_CHECKS.length}), one backend, ${largeName}`,
        samples: domain,
        unit: "ms",
        baseline: `sequential scan of every table, ${largeName}`,
      },
      { name: `bare database copy (CREATE DATABASE ... TEMPLATE), ${DRILL_USERS * 7} rows`, samples: copy, unit: "s" },
      {
        name: `local drill RTO (restore requested until checks passed), ${DRILL_USERS * 7} rows`,
        samples: rto,
        unit: "s",
        baseline: `bare database copy (CREATE DATABASE ... TEMPLATE), ${DRILL_USERS * 7} rows`,
        target: "<= 1.3x baseline + 1 s",
        meets: (seconds, baselineSeconds) => seconds <= 1.3 * baselineSeconds + 1,
      },
    ];
  } finally {
    await pg.stop();
  }
}
