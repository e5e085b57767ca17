import { spawn } from "node:child_process";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import { Database } from "node-sqlite3-wasm";
import { Client } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { startPostgres } from "../../tests/support/postgres";
import type { BenchRow } from "./types";

/**
 * Rows per second migrating a 1-million-row Prisma-shaped SQLite file into PostgreSQL with
 * `npm run migrate:sqlite-to-postgres` (snapshot, COPY, per-table checksums, FK checks, COMMIT),
 * against PostgreSQL's own COPY of the same rows from a CSV file in the same run. The floor is
 * COPY ... FROM STDIN streaming the file through pg-copy-streams (the migration's own path, and the
 * one RDS allows: server-side COPY FROM a file needs superuser and a file on the database host).
 * Then one migration of a 2 GiB SQLite file (kept in .tmp/ between runs; generating it takes
 * minutes), for its time and peak RSS: the reader pages the file from disk, so memory stays flat.
 * The migration runs as its own process, so its peak RSS is measured alone.
 */

const ROWS = 1_000_000;
const SAMPLES = 3;
const ROOT = path.resolve(__dirname, "../..");
/** The large run's file size; BENCH_CUTOVER_LARGE_GB overrides it to find the largest file that migrates. */
const LARGE_BYTES = Number(process.env.BENCH_CUTOVER_LARGE_GB ?? "2") * 1024 ** 3;

const TABLE_SQL = `CREATE TABLE "Event" (
    "id" SERIAL NOT NULL,
    "userId" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "isActive" BOOLEAN NOT NULL,
    "name" TEXT NOT NULL,
    "payload" JSONB,
    "amount" DOUBLE PRECISION,
    CONSTRAINT "Event_pkey" PRIMARY KEY ("id"))`;

const SQLITE_TABLE = `CREATE TABLE "Event" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "userId" INTEGER NOT NULL, "createdAt" DATETIME NOT NULL,
    "isActive" BOOLEAN NOT NULL, "name" TEXT NOT NULL, "payload" TEXT, "amount" REAL)`;

/** Row i, built the same way by SQLite (for the file) and by JavaScript (for the CSV). */
const ROW_SQL = `i, (i % 5000) + 1, 1700000000000 + i * 1000, i % 3 = 0, 'user ' || i || ' — näme',
    '{"seq":' || i || ',"tags":["a","b"],"score":' || (i % 1000) || '}', i * 0.25`;

function csvRow(i: number): string {
  const payload = `{"seq":${i},"tags":["a","b"],"score":${i % 1000}}`;
  return `${i},${(i % 5000) + 1},${new Date(1_700_000_000_000 + i * 1000).toISOString()},${i % 3 === 0 ? "t" : "f"},"user ${i} — näme","${payload.replace(/"/g, '""')}",${i * 0.25}\n`;
}

/** Writes `rows` rows of `rowSql` (over `i`) into a new SQLite file with SQLite itself, in one statement. */
function writeSqlite(file: string, schema: string, table: string, rowSql: string, rows: number): void {
  const db = new Database(file);
  try {
    db.exec(`PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; ${schema};
      WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${rows}) INSERT INTO "${table}" SELECT ${rowSql} FROM s;`);
  } finally {
    db.close();
  }
}

/** The same rows as a 1M-row SQLite file and as PostgreSQL-ready CSV. */
async function writeInputs(sqliteFile: string, csvFile: string): Promise<void> {
  writeSqlite(sqliteFile, SQLITE_TABLE, "Event", ROW_SQL, ROWS);
  const csv = createWriteStream(csvFile);
  let buffer = "";
  for (let i = 1; i <= ROWS; i += 1) {
    buffer += csvRow(i);
    if (buffer.length > 1 << 20) {
      if (!csv.write(buffer)) await new Promise<void>((resolve) => csv.once("drain", () => resolve()));
      buffer = "";
    }
  }
  await new Promise<void>((resolve, reject) => csv.end(buffer, () => resolve()).on("error", reject));
}

/** A document store's rows: ~1 KB of text each, so the file reaches its size with realistic row counts. */
const LARGE_SQLITE_TABLE = `CREATE TABLE "Document" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "ownerId" INTEGER NOT NULL,
    "createdAt" DATETIME NOT NULL, "title" TEXT NOT NULL, "meta" TEXT, "body" TEXT NOT NULL)`;
const LARGE_TABLE_SQL = `CREATE TABLE "Document" ("id" SERIAL PRIMARY KEY, "ownerId" INTEGER NOT NULL, "createdAt" TIMESTAMP(3) NOT NULL,
    "title" TEXT NOT NULL, "meta" JSONB, "body" TEXT NOT NULL)`;
const LARGE_ROW_SQL = `i, (i % 5000) + 1, 1700000000000 + i * 1000, 'document ' || i, '{"rev":' || (i % 7) || ',"lang":"en"}', hex(randomblob(500))`;
const LARGE_ROW_BYTES = 1080;

/** The large file, made once and kept in .tmp/ (git-ignored). */
async function largeSqliteFile(): Promise<string> {
  const dir = path.join(ROOT, ".tmp");
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `bench-cutover-${(LARGE_BYTES / 1024 ** 3).toFixed(1)}GiB.db`);
  if (existsSync(file) && (await stat(file)).size >= LARGE_BYTES * 0.95) return file;
  await rm(file, { force: true });
  writeSqlite(file, LARGE_SQLITE_TABLE, "Document", LARGE_ROW_SQL, Math.ceil(LARGE_BYTES / LARGE_ROW_BYTES));
  return file;
}

interface MigrationRun {
  totalMs: number;
  snapshotMs: number;
  loadMs: number;
  validateMs: number;
  peakRssMb: number;
  rows: number;
}

function runMigration(sqliteFile: string, databaseUrl: string, snapshotDir: string): Promise<MigrationRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, "node_modules/.bin/tsx"), ["ops/cutover/cli.ts", `--sqlite=${sqliteFile}`, "--json", `--snapshot-dir=${snapshotDir}`], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`migration exited ${code}: ${stderr}${stdout.slice(0, 4000)}`));
      const report = JSON.parse(stdout) as { timings: Omit<MigrationRun, "peakRssMb" | "rows">; peakRssMb: number; rows: number };
      resolve({ ...report.timings, peakRssMb: report.peakRssMb, rows: report.rows });
    });
  });
}

async function copyCsv(client: Client, csvFile: string): Promise<number> {
  const started = performance.now();
  await pipeline(createReadStream(csvFile), client.query(copyFrom(`COPY "Event" FROM STDIN WITH (FORMAT csv)`)));
  return performance.now() - started;
}

export async function benchCutover(): Promise<BenchRow[]> {
  const pg = await startPostgres();
  const work = await mkdtemp(path.join(tmpdir(), "bench-cutover-"));
  const client = new Client({ connectionString: pg.url() });
  try {
    const sqliteFile = path.join(work, "dev.db");
    const csvFile = path.join(work, "events.csv");
    await writeInputs(sqliteFile, csvFile);
    const sizeMb = (await stat(sqliteFile)).size / 1024 / 1024;
    await client.connect();
    await client.query(TABLE_SQL);

    const baseline = `PostgreSQL COPY FROM STDIN of the same ${ROWS / 1e6}M rows (CSV file via pg-copy-streams)`;
    const copySamples: number[] = [];
    const endToEnd: number[] = [];
    const loadOnly: number[] = [];
    const phases = { outside: [] as number[], validate: [] as number[] };
    const rss: number[] = [];
    for (let i = 0; i < SAMPLES; i += 1) {
      await client.query(`TRUNCATE "Event"`);
      await client.query("CHECKPOINT");
      copySamples.push(ROWS / ((await copyCsv(client, csvFile)) / 1000));
      await client.query(`TRUNCATE "Event"`);
      await client.query("CHECKPOINT");
      const snapshotDir = path.join(work, `snapshots-${i}`);
      const run = await runMigration(sqliteFile, pg.url(), snapshotDir);
      await rm(snapshotDir, { recursive: true, force: true });
      if (run.rows !== ROWS) throw new Error(`migration copied ${run.rows} rows, expected ${ROWS}`);
      endToEnd.push(ROWS / (run.totalMs / 1000));
      loadOnly.push(ROWS / (run.loadMs / 1000));
      phases.outside.push((run.totalMs - run.loadMs - run.validateMs) / 1000);
      phases.validate.push(run.validateMs / 1000);
      rss.push(run.peakRssMb);
    }

    const large = await largeSqliteFile();
    const largeGb = (await stat(large)).size / 1024 ** 3;
    await client.query(LARGE_TABLE_SQL);
    await client.query("CHECKPOINT");
    const largeRun = await runMigration(large, pg.url(), path.join(work, "snapshots-large"));
    await rm(path.join(work, "snapshots-large"), { recursive: true, force: true });
    return [
      { name: baseline, samples: copySamples, unit: "rows/s" },
      {
        name: `migrate:sqlite-to-postgres ${ROWS / 1e6}M rows: snapshot + COPY + checksums + FK checks + commit`,
        samples: endToEnd,
        unit: "rows/s",
        baseline,
        target: ">= 0.6x baseline",
        meets: (rate, baselineRate) => rate >= 0.6 * baselineRate,
      },
      { name: `migrate:sqlite-to-postgres ${ROWS / 1e6}M rows: load phase only (read, map, hash, COPY)`, samples: loadOnly, unit: "rows/s", baseline },
      { name: `migrate:sqlite-to-postgres ${ROWS / 1e6}M rows: outside load and validation (snapshot, schema, plan, datetime units, pre-checks, commit)`, samples: phases.outside, unit: "s" },
      { name: `migrate:sqlite-to-postgres ${ROWS / 1e6}M rows: validation (one read-back per table, checksums, FK orphans, source re-check)`, samples: phases.validate, unit: "s" },
      { name: `migrate:sqlite-to-postgres peak RSS, ${sizeMb.toFixed(0)} MB SQLite file`, samples: rss, unit: "MB" },
      { name: `migrate:sqlite-to-postgres ${largeGb.toFixed(2)} GiB SQLite file (${largeRun.rows} rows), end to end`, samples: [largeRun.totalMs / 1000], unit: "s" },
      {
        name: `migrate:sqlite-to-postgres peak RSS, ${largeGb.toFixed(2)} GiB SQLite file`,
        samples: [largeRun.peakRssMb],
        unit: "MB",
        target: "<= 1024 MB",
      },
    ];
  } finally {
    await client.end().catch(() => undefined);
    await pg.stop();
    await rm(work, { recursive: true, force: true });
  }
}
