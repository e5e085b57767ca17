import { spawn } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import { Client } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import initSqlJs from "sql.js";
import { startPostgres } from "../../tests/support/postgres";
import type { BenchRow } from "./types";

/**
 * Rows per second migrating a 1-million-row Prisma-shaped SQLite file into PostgreSQL with
 * `npm run migrate:sqlite-to-postgres` (snapshot, COPY, per-table checksums, FK checks, COMMIT),
 * against PostgreSQL's own COPY of the same rows from a CSV file in the same run. The floor is
 * COPY ... FROM STDIN streaming the file through pg-copy-streams (the migration's own path, and the
 * one RDS allows: server-side COPY FROM a file needs superuser and a file on the database host).
 * The migration runs as its own process, so its peak RSS (sql.js holds the whole file in memory)
 * is measured alone.
 */

const ROWS = 1_000_000;
const SAMPLES = 3;
const ROOT = path.resolve(__dirname, "../..");

const TABLE_SQL = `CREATE TABLE "Event" (
    "id" SERIAL NOT NULL,
    "userId" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "isActive" BOOLEAN NOT NULL,
    "name" TEXT NOT NULL,
    "payload" JSONB,
    "amount" DOUBLE PRECISION,
    CONSTRAINT "Event_pkey" PRIMARY KEY ("id"))`;

function row(i: number): [number, number, number, number, string, string, number] {
  return [i, (i % 5000) + 1, 1_700_000_000_000 + i * 1000, i % 3 === 0 ? 1 : 0, `user ${i} — näme`, `{"seq":${i},"tags":["a","b"],"score":${i / 8}}`, i * 0.25];
}

/** The same rows as a 1M-row SQLite file (written by sql.js, Prisma's storage) and as PostgreSQL-ready CSV. */
async function writeInputs(sqliteFile: string, csvFile: string): Promise<void> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  db.run(`CREATE TABLE "Event" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "userId" INTEGER NOT NULL, "createdAt" DATETIME NOT NULL,
          "isActive" BOOLEAN NOT NULL, "name" TEXT NOT NULL, "payload" TEXT, "amount" REAL)`);
  const csv = createWriteStream(csvFile);
  db.run("BEGIN");
  const insert = db.prepare(`INSERT INTO "Event" VALUES (?, ?, ?, ?, ?, ?, ?)`);
  let buffer = "";
  for (let i = 1; i <= ROWS; i += 1) {
    const r = row(i);
    insert.run(r);
    buffer += `${r[0]},${r[1]},${new Date(r[2]).toISOString()},${r[3] ? "t" : "f"},"${r[4]}","${r[5].replace(/"/g, '""')}",${r[6]}\n`;
    if (buffer.length > 1 << 20) {
      if (!csv.write(buffer)) await new Promise<void>((resolve) => csv.once("drain", () => resolve()));
      buffer = "";
    }
  }
  insert.free();
  db.run("COMMIT");
  await new Promise<void>((resolve, reject) => csv.end(buffer, () => resolve()).on("error", reject));
  await writeFile(sqliteFile, db.export());
  db.close();
}

interface MigrationRun {
  totalMs: number;
  loadMs: number;
  peakRssMb: number;
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
      const report = JSON.parse(stdout) as { timings: { totalMs: number; loadMs: number }; peakRssMb: number; rows: number };
      if (report.rows !== ROWS) return reject(new Error(`migration copied ${report.rows} rows, expected ${ROWS}`));
      resolve({ totalMs: report.timings.totalMs, loadMs: report.timings.loadMs, peakRssMb: report.peakRssMb });
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
      endToEnd.push(ROWS / (run.totalMs / 1000));
      loadOnly.push(ROWS / (run.loadMs / 1000));
      rss.push(run.peakRssMb);
    }
    return [
      { name: baseline, samples: copySamples, unit: "rows/s" },
      {
        name: `migrate:sqlite-to-postgres ${ROWS / 1e6}M rows: snapshot + COPY + checksums + FK checks + commit`,
        samples: endToEnd,
        unit: "rows/s",
        baseline,
        target: ">= 0.50x baseline",
        meets: (rate, baselineRate) => rate >= 0.5 * baselineRate,
      },
      { name: `migrate:sqlite-to-postgres ${ROWS / 1e6}M rows: load phase only (read, map, hash, COPY)`, samples: loadOnly, unit: "rows/s", baseline },
      { name: `migrate:sqlite-to-postgres peak RSS, ${sizeMb.toFixed(0)} MB SQLite file`, samples: rss, unit: "MB" },
    ];
  } finally {
    await client.end().catch(() => undefined);
    await pg.stop();
    await rm(work, { recursive: true, force: true });
  }
}
