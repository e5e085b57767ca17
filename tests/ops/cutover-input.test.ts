import { createHash } from "node:crypto";
import { readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { Database } from "node-sqlite3-wasm";
import { describe, expect, it } from "vitest";
import { exitCodeFor } from "../../ops/lib/report";
import { runChild } from "../support/spawn";
import { query, ROWS, type Setup } from "./cutover-fixture";
import { cutoverSuite, DATA_TABLES, failures } from "./cutover-suite";

/**
 * The cutover's refusals of its inputs, each on a real SQLite file into a real PostgreSQL: a run
 * refused before loading leaves no copy of the data behind; a WAL-mode file migrates exactly;
 * a schema, `--datetime-unit` or URL file that does not exist is bad usage (exit 2) naming the flag.
 */

const ROOT = path.resolve(__dirname, "../..");

const suite = cutoverSuite("cutover-input");
const { setup, migrate } = suite;

/** The files in the snapshot folder other than its .gitignore (none when the folder was never made). */
const snapshotFiles = async (s: Setup) => (await readdir(s.snapshots).catch(() => [])).filter((f) => f !== ".gitignore").sort();

const sha256 = async (file: string) => createHash("sha256").update(await readFile(file)).digest("hex");

const dataRows = async (url: string) =>
  Number((await query<{ n: string }>(url, `SELECT (${DATA_TABLES.map((t) => `(SELECT count(*) FROM "${t}")`).join(" + ")})::text AS n`))[0]?.n);

/** The thrown error of a run expected to be refused, with its exit code. */
const refusal = (run: Promise<unknown>) =>
  run.then(
    () => {
      throw new Error("the run was not refused");
    },
    (error: unknown) => error as Error & { exitCode?: number },
  );

describe("a run refused before loading leaves no snapshot (a copy of production data) behind", () => {
  it("target tables that already hold rows, without --truncate: exit 1, snapshot and .sha256 removed, the report says so", async () => {
    const s = await setup();
    await query(s.url, `INSERT INTO "Tag" (name) VALUES ('already here')`);
    const source = await sha256(s.sqlite);
    const report = await migrate(s);
    expect(exitCodeFor(report.results)).toBe(1);
    expect(failures(report)).toEqual(["target empty: Tag already hold rows; refusing to mix data. Pass --truncate to replace them (inside the same transaction)"]);
    expect(await snapshotFiles(s)).toEqual([]);
    expect(report.snapshot).toEqual({ sha256: source, size: (await stat(s.sqlite)).size });
    expect(report.results.find((r) => r.check === "snapshot")?.detail).toMatch(
      new RegExp(`^${s.snapshots}/dev\\.db\\.\\d{8}T\\d{6}\\.\\d{3}Z and its \\.sha256 removed: the run stopped before loading any row, so ${s.sqlite} and PostgreSQL are as they were \\(\\d+ bytes, sha256 ${source}\\)$`),
    );
    expect(await sha256(s.sqlite)).toBe(source);
  });

  it("a target schema without tables: exit 1, no snapshot", async () => {
    const s = await setup();
    const bare = await suite.pg().createDatabase("input_bare");
    const report = await migrate({ ...s, url: bare });
    expect(failures(report)).toEqual([`plan: PostgreSQL schema "public" has no tables: run the application's migrations (prisma migrate deploy) against it first`]);
    expect(report.snapshot.path).toBeUndefined();
    expect(await snapshotFiles(s)).toEqual([]);
  });

  it("a source holding none of the target's tables: exit 1, no snapshot", async () => {
    const s = await setup();
    await rm(s.sqlite);
    const db = new Database(s.sqlite);
    db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); INSERT INTO users VALUES (1, 'a@example.com');");
    db.close();
    const report = await migrate(s);
    expect(failures(report)).toContain(`plan: ${s.sqlite} has none of the 6 tables of PostgreSQL schema "public" (it holds users): is --sqlite the right path? Pass --allow-empty to migrate it anyway`);
    expect(await snapshotFiles(s)).toEqual([]);
  });

  it("keeps the snapshot once rows were loaded and validation failed: it is the rollback's evidence, and it verifies", async () => {
    const s = await setup();
    const checks = path.join(suite.work(), "failing-checks.yaml");
    await writeFile(checks, '- name: no users at all\n  sql: SELECT id FROM "User"\n');
    const report = await migrate(s, { domainChecksFile: checks });
    expect(failures(report)).toEqual([
      "domain: no users at all: 3 violating row(s), e.g. [1], [2], [3]",
      "transaction: rolled back: PostgreSQL is unchanged. Keep production on the previous release",
    ]);
    const files = await snapshotFiles(s);
    expect(files).toEqual([path.basename(report.snapshot.path ?? ""), `${path.basename(report.snapshot.path ?? "")}.sha256`]);
    expect(await readFile(report.snapshot.checksumPath ?? "", "utf8")).toBe(`${await sha256(s.sqlite)}  ${files[0]}\n`);
    expect(await dataRows(s.url)).toBe(0);
  });
});

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
      `source unchanged: ${s.sqlite} changed during the run (${s.sqlite}-wal exists (26 bytes): the database is in WAL mode and has writes in its -wal, outside the main file. Stop writes to the old environment, then checkpoint (sqlite3 ${s.sqlite} "PRAGMA wal_checkpoint(TRUNCATE);") before migrating): writes to the old environment were not stopped`,
      "transaction: rolled back: PostgreSQL is unchanged. Keep production on the previous release",
    ]);
    expect(await dataRows(s.url)).toBe(0);
  });
});

describe("a schema or --datetime-unit that does not exist is bad usage (exit 2), naming the flag and what exists", () => {
  it("--schema, or the URL's ?schema=, naming no schema of the target: exit 2 with the schemas there are, no snapshot", async () => {
    const s = await setup();
    await query(s.url, "CREATE SCHEMA app");
    const flag = await refusal(migrate(s, { schema: "nope" }));
    expect(flag.message).toBe(
      `--schema nope: the target database has no schema "nope" (it has app, public); pass --schema with one of those, or create the schema by running the application's migrations (prisma migrate deploy) against it first`,
    );
    expect(flag.exitCode).toBe(2);
    const withSchema = new URL(s.url);
    withSchema.searchParams.set("schema", "Nope");
    const fromUrl = await refusal(migrate({ ...s, url: withSchema.href }));
    expect(fromUrl.message).toMatch(/^\?schema=Nope in the database URL \(--database-url or DATABASE_URL\): the target database has no schema "Nope" \(it has app, public\);/);
    expect(fromUrl.exitCode).toBe(2);
    expect(await snapshotFiles(s)).toEqual([]);
  });

  it("--datetime-unit naming a table or column that does not exist: exit 2 listing the plan's timestamp columns, no snapshot", async () => {
    const s = await setup();
    for (const key of ["Order.createdAt", "User.email", "User.createdAtt"]) {
      const error = await refusal(migrate(s, { datetimeUnits: new Map([[key, "s"]]) }));
      expect(error.message).toBe(
        `--datetime-unit ${key}: no such timestamp or date column in the plan (names are the SQLite table and column); ` +
          "the plan's are User.createdAt, User.updatedAt, Post.publishedAt, Comment.createdAt",
      );
    }
    expect(await snapshotFiles(s)).toEqual([]);
    expect(await dataRows(s.url)).toBe(0);
  });
});

describe("through npm run (exit codes and one JSON document)", () => {
  const cli = (args: string[]) => {
    const { DATABASE_URL: _ignored, ...inherited } = process.env;
    return runChild(path.join(ROOT, "node_modules/.bin/tsx"), [path.join(ROOT, "ops/cutover/cli.ts"), ...args, "--json"], inherited);
  };

  it("?sslcert= naming a missing file: exit 2 naming the URL parameter, never the password", async () => {
    const s = await setup();
    const url = new URL(s.url);
    url.password = "s3cret-pw";
    url.searchParams.set("sslcert", "/nope");
    const run = await cli([`--sqlite=${s.sqlite}`, `--database-url=${url.href}`, `--snapshot-dir=${s.snapshots}`]);
    expect(run.code).toBe(2);
    const report = JSON.parse(run.stdout) as { exitCode: number; error: string };
    expect(report.exitCode).toBe(2);
    expect(report.error).toBe(
      `sslcert in the database URL postgresql://${url.host}${url.pathname} (--database-url or DATABASE_URL): /nope: no such file (/nope); fix the path, or write the file, for example: a PEM client certificate`,
    );
    expect(run.stdout + run.stderr).not.toContain("s3cret-pw");
    expect(await snapshotFiles(s)).toEqual([]);
  });

  it("--schema and --datetime-unit that do not exist: exit 2, one JSON document", async () => {
    const s = await setup();
    for (const flag of ["--schema=nope", "--datetime-unit=Order.createdAt=s"]) {
      const run = await cli([`--sqlite=${s.sqlite}`, `--database-url=${s.url}`, `--snapshot-dir=${s.snapshots}`, flag]);
      expect(run.code).toBe(2);
      expect((JSON.parse(run.stdout) as { error: string }).error).toMatch(new RegExp(`^${flag.split("=")[0]} `));
    }
    expect(await snapshotFiles(s)).toEqual([]);
  });
});
