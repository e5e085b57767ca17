import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Database } from "node-sqlite3-wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateSqliteToPostgres, type CutoverOptions, type CutoverReport } from "../../ops/cutover/migrate";
import { startPostgres, type PostgresServer } from "../support/postgres";
import { query, ROWS, setupCutover, type Setup, type SetupOptions } from "./cutover-fixture";

/**
 * The cutover's inputs, each on a real SQLite file into a real PostgreSQL: a WAL-mode file migrates exactly.
 */

let pg: PostgresServer;
let work: string;
let databases = 0;

beforeAll(async () => {
  pg = await startPostgres();
  work = await mkdtemp(path.join(tmpdir(), "cutover-input-"));
});

afterAll(async () => {
  await pg?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const setup = (options: SetupOptions = {}): Promise<Setup> => {
  databases += 1;
  return setupCutover(pg, path.join(work, `run-${databases}`), `input_${databases}`, options);
};

function migrate(s: Setup, extra: Partial<CutoverOptions> = {}): Promise<CutoverReport> {
  return migrateSqliteToPostgres({ sqlitePath: s.sqlite, databaseUrl: s.url, snapshotDir: s.snapshots, ...extra });
}

const failures = (report: CutoverReport) => report.results.filter((r) => r.status === "fail").map((r) => `${r.check}: ${r.detail}`);

/** The files in the snapshot folder other than its .gitignore (none when the folder was never made). */
const snapshotFiles = async (s: Setup) => (await readdir(s.snapshots).catch(() => [])).filter((f) => f !== ".gitignore").sort();

const sha256 = async (file: string) => createHash("sha256").update(await readFile(file)).digest("hex");

const DATA_TABLES = ["User", "Post", "Comment", "Attachment", "Tag", "_PostToTag"] as const;
const dataRows = async (url: string) =>
  Number((await query<{ n: string }>(url, `SELECT (${DATA_TABLES.map((t) => `(SELECT count(*) FROM "${t}")`).join(" + ")})::text AS n`))[0]?.n);

describe("a SQLite database in WAL journal mode (Prisma and most apps use WAL)", () => {
  /** Written by SQLite itself: WAL needs no shared memory in exclusive locking mode, and closing checkpoints the -wal away. */
  const toWal = (db: Database) => db.exec(`PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; UPDATE "Tag" SET name = 'news, in WAL' WHERE id = 1;`);

  it("migrates exactly from a checkpointed file (no -wal), and its snapshot still verifies", async () => {
    const s = await setup({ mutate: toWal });
    const header = (await readFile(s.sqlite)).subarray(18, 20);
    expect([...header]).toEqual([2, 2]);
    const report = await migrate(s);
    expect(failures(report)).toEqual([]);
    expect(report.committed).toBe(true);
    expect(await dataRows(s.url)).toBe(DATA_TABLES.reduce((sum, t) => sum + ROWS[t].length, 0));
    expect(await query(s.url, `SELECT name FROM "Tag" WHERE id = 1`)).toEqual([{ name: "news, in WAL" }]);
    expect(report.results.filter((r) => r.check.startsWith("checksum: ")).every((r) => r.status === "pass")).toBe(true);
    // The snapshot's bytes are the source's (a WAL-mode header included) and its checksum file verifies.
    const snapshot = report.snapshot.path ?? "";
    expect(await sha256(snapshot)).toBe(await sha256(s.sqlite));
    expect(await readFile(report.snapshot.checksumPath ?? "", "utf8")).toBe(`${report.snapshot.sha256}  ${path.basename(snapshot)}\n`);
    expect(await snapshotFiles(s)).toEqual([path.basename(snapshot), `${path.basename(snapshot)}.sha256`]);
  });

  it("migrates with the empty -wal and the -shm that wal_checkpoint(TRUNCATE) leaves, and touches neither (nor the file) on a dry run or a run", async () => {
    const s = await setup({ mutate: toWal });
    await writeFile(`${s.sqlite}-wal`, "");
    await writeFile(`${s.sqlite}-shm`, Buffer.alloc(32768, 1));
    const before = await Promise.all([s.sqlite, `${s.sqlite}-shm`].map(sha256));
    const dry = await migrate(s, { dryRun: true });
    expect(failures(dry)).toEqual([]);
    const report = await migrate(s);
    expect(failures(report)).toEqual([]);
    expect(report.committed).toBe(true);
    expect(await Promise.all([s.sqlite, `${s.sqlite}-shm`].map(sha256))).toEqual(before);
    expect((await stat(`${s.sqlite}-wal`)).size).toBe(0);
    expect(await readdir(path.dirname(s.sqlite))).toEqual(expect.not.arrayContaining([`dev.db.lock`]));
  });

  it("rolls back when the old environment writes to the -wal during the run (the main file alone stays the same)", async () => {
    const s = await setup({ mutate: toWal });
    const report = await migrate(s, { beforeFinalCheck: () => writeFile(`${s.sqlite}-wal`, "a write after the snapshot") });
    expect(failures(report)).toEqual([
      `source unchanged: ${s.sqlite} changed during the run (${s.sqlite}-wal exists (26 bytes): the database has writes outside the main file. Stop writes to the old environment, then checkpoint (sqlite3 ${s.sqlite} "PRAGMA wal_checkpoint(TRUNCATE);") before migrating): writes to the old environment were not stopped`,
      "transaction: rolled back: PostgreSQL is unchanged. Keep production on the previous release",
    ]);
    expect(await dataRows(s.url)).toBe(0);
  });
});
