import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPostgres, type PostgresServer } from "../support/postgres";
import { applyPostgresSchema, query, writePrismaSqlite } from "./cutover-fixture";

const ROOT = path.resolve(__dirname, "../..");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");
const CLI = path.join(ROOT, "ops/cutover/cli.ts");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const { DATABASE_URL: _ignored, ...inherited } = process.env;
    const child = spawn(TSX, [CLI, ...args], { cwd: ROOT, env: { ...inherited, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

let pg: PostgresServer;
let work: string;
let url: string;
let sqlite: string;
let snapshots: string;

beforeAll(async () => {
  pg = await startPostgres();
  work = await mkdtemp(path.join(tmpdir(), "cutover-cli-"));
  url = await pg.createDatabase("cutover_cli");
  await applyPostgresSchema(url);
  sqlite = path.join(work, "dev.db");
  snapshots = path.join(work, "snapshots");
  await writePrismaSqlite(sqlite);
});

afterAll(async () => {
  await pg?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("npm run migrate:sqlite-to-postgres (ops/cutover/cli.ts)", () => {
  it("exits 2 with the fix when no target is given", async () => {
    const result = await run([`--sqlite=${sqlite}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("migrate:sqlite-to-postgres: no target database: pass --database-url=postgresql://user:password@host:5432/db or set DATABASE_URL\n");
  });

  it("--dry-run prints the plan and the pre-checks, exits 0 and writes nothing", async () => {
    const result = await run([`--sqlite=${sqlite}`, `--database-url=${url}`, "--dry-run", `--snapshot-dir=${snapshots}`]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Plan: 6 tables, 16 rows into schema "public", in foreign-key order');
    expect(result.stdout).toContain("SQLite -> PostgreSQL cutover (dry run: nothing written)");
    expect(result.stdout).not.toContain(pg.password);
    expect(await query(url, `SELECT count(*)::int AS n FROM "User"`)).toEqual([{ n: 0 }]);
  });

  it("migrates with DATABASE_URL from the environment and reports JSON, exit 0", async () => {
    const result = await run([`--sqlite=${sqlite}`, "--json", `--snapshot-dir=${snapshots}`], { DATABASE_URL: url });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { passed: boolean; committed: boolean; rows: number; results: { check: string; status: string }[]; peakRssMb: number };
    expect(report).toMatchObject({ passed: true, committed: true, rows: 16 });
    expect(report.results.filter((r) => r.status === "fail")).toEqual([]);
    expect(report.peakRssMb).toBeGreaterThan(0);
    expect(result.stdout).not.toContain(pg.password);
  });

  it("exits 1 on a non-empty target without --truncate, 0 with it", async () => {
    const refused = await run([`--sqlite=${sqlite}`, `--database-url=${url}`, `--snapshot-dir=${snapshots}`]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain("SQLite -> PostgreSQL cutover (rolled back)");
    expect(refused.stdout).toContain("Pass --truncate to replace them");

    const replaced = await run([`--sqlite=${sqlite}`, `--database-url=${url}`, "--truncate", `--snapshot-dir=${snapshots}`]);
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toContain("SQLite -> PostgreSQL cutover (committed)");
    expect(replaced.stderr).toContain("copied User -> User: 3 rows");
    expect(await query(url, `SELECT count(*)::int AS n FROM "User"`)).toEqual([{ n: 3 }]);
  });
});
