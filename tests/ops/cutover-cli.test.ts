import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPostgres, type PostgresServer } from "../support/postgres";
import { runChild, type ChildRun } from "../support/spawn";
import { applyPostgresSchema, query, writePrismaSqlite } from "./cutover-fixture";

const ROOT = path.resolve(__dirname, "../..");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");
const CLI = path.join(ROOT, "ops/cutover/cli.ts");

type Run = ChildRun;

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  return runChild(TSX, [CLI, ...args], { ...inherited, ...env });
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

  it("--help exits 0; an unknown flag exits 2 with a did-you-mean", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--datetime-unit <Table.column=s|ms>");
    const typo = await run(["--dry-rn"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("error: unknown option '--dry-rn'\n(Did you mean --dry-run?)");
  });
});

/** A bash line run from `cwd`, with DATABASE_URL set as the README's procedure expects. */
function shell(line: string, cwd: string, databaseUrl = ""): Run {
  const result = spawnSync("bash", ["-c", line], { cwd, encoding: "utf8", env: { ...process.env, DATABASE_URL: databaseUrl } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The README's cutover procedure: step 3's command, step 4's jq lines and step 5's, as written there. */
async function procedure(): Promise<{ step3: string; jq: string[]; verifyLine: string }> {
  const readme = await readFile(path.join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### The cutover procedure"), readme.indexOf("## Alerts and on-call"));
  const spans = [...section.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
  const step3 = spans.find((c) => c.startsWith("npm run -s migrate:sqlite-to-postgres"));
  const [summary, failed, verifyLine] = spans.filter((c) => c.startsWith("jq "));
  if (!step3 || !summary || !failed || !verifyLine) throw new Error("README's cutover procedure lost its step 3 command, step 4's jq lines or step 5's");
  return { step3, jq: [summary, failed], verifyLine };
}

const USERS_CARRIED_OVER = '- name: users carried over\n  source: SELECT count(*) FROM "User"\n  target: SELECT count(*) FROM "User"\n';

/** Step 3 for this test's files: the README's line with the paths replaced, run from the repository root. */
async function runStep3(dir: string, sqliteFile: string, databaseUrl: string, checks = USERS_CARRIED_OVER): Promise<Run> {
  const { step3 } = await procedure();
  await writeFile(path.join(dir, "cutover-checks.yaml"), checks);
  const line = step3
    .replace("--sqlite=backend/prisma/dev.db", `--sqlite=${sqliteFile} --snapshot-dir=${path.join(dir, "cutover-snapshots")}`)
    .replace("--domain-checks=cutover-checks.yaml", `--domain-checks=${path.join(dir, "cutover-checks.yaml")}`)
    .replace("> cutover-report.json", `> ${path.join(dir, "cutover-report.json")}`);
  return shell(line, ROOT, databaseUrl);
}

describe("the README's cutover steps 3-5, verbatim, on failing runs", () => {
  it("a rolled-back run: one JSON document through npm -s, step 4's jq lines read it, the printed sha256sum line verifies the snapshot", async () => {
    const target = await pg.createDatabase("cutover_cli_failing");
    await applyPostgresSchema(target);
    const dir = path.join(work, "failing");
    await mkdir(dir, { recursive: true });
    // A domain check that fails after the load: the run rolls back and keeps its snapshot.
    const step3 = await runStep3(dir, sqlite, target, '- name: one user more\n  source: SELECT count(*) + 1 FROM "User"\n  target: SELECT count(*) FROM "User"\n');
    expect(step3.stdout).toBe("exit 1\n");
    const report = JSON.parse(await readFile(path.join(dir, "cutover-report.json"), "utf8")) as { passed: boolean; exitCode: number; snapshot: { verifyCommand: string } };
    expect(report).toMatchObject({ passed: false, exitCode: 1 });

    const [summary, failed] = await Promise.all((await procedure()).jq.map(async (line) => shell(line, dir)));
    expect(summary?.code).toBe(0);
    expect(summary?.stdout.startsWith("false\nfalse\n{")).toBe(true);
    expect(failed).toEqual({
      code: 0,
      stdout: "domain: one user more: source 4, target 3\ntransaction: rolled back: PostgreSQL is unchanged. Keep production on the previous release\n",
      stderr: "",
    });

    // Step 5: the README's line prints the command the tool wrote, which verifies from anywhere.
    expect(shell((await procedure()).verifyLine, dir)).toEqual({ code: 0, stdout: `${report.snapshot.verifyCommand}\n`, stderr: "" });
    expect(report.snapshot.verifyCommand).toMatch(/^cd \/.+\/cutover-snapshots && sha256sum -c dev\.db\.\d{8}T\d{6}\.\d{3}Z\.sha256$/);
    const verify = shell(report.snapshot.verifyCommand, tmpdir());
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^dev\.db\.\d{8}T\d{6}\.\d{3}Z: OK\n$/);
  });

  it("a refused run (exit 2, no such file) is one JSON document in the report's shape too", async () => {
    const dir = path.join(work, "refused");
    await mkdir(dir, { recursive: true });
    const step3 = await runStep3(dir, "backend/prisma/dev.db", url);
    expect(step3.stdout).toBe("exit 2\n");
    const [summary, failed] = (await procedure()).jq.map((line) => shell(line, dir));
    expect(summary).toEqual({ code: 0, stdout: "false\nfalse\nnull\n", stderr: "" });
    expect(failed?.stdout).toBe(`input: --sqlite backend/prisma/dev.db: no such file (resolved as ${path.join(ROOT, "backend/prisma/dev.db")}); pass the path of the Prisma SQLite database (e.g. backend/prisma/dev.db)\n`);
    // Step 5 says there is nothing to restore, rather than printing null.
    expect(shell((await procedure()).verifyLine, dir)).toEqual({ code: 0, stdout: "no snapshot: the run stopped before loading\n", stderr: "" });
  });

  it("reads a relative --sqlite from the directory npm was run in, not the package root npm moves to", async () => {
    await mkdir(path.join(ROOT, ".tmp"), { recursive: true });
    const caller = await mkdtemp(path.join(ROOT, ".tmp", "cutover-caller-"));
    const target = await pg.createDatabase("cutover_cli_caller");
    await applyPostgresSchema(target);
    try {
      await mkdir(path.join(caller, "backend", "prisma"), { recursive: true });
      await writePrismaSqlite(path.join(caller, "backend", "prisma", "dev.db"));
      const args = ["run", "-s", "migrate:sqlite-to-postgres", "--", "--sqlite=backend/prisma/dev.db", "--dry-run", "--json"];
      const dry = await runChild("npm", args, { ...process.env, DATABASE_URL: target }, caller);
      expect(dry.code, dry.stderr).toBe(0);
      const report = JSON.parse(dry.stdout) as { sqlite: string; plan: { tables: unknown[] } };
      expect(report.sqlite).toBe("backend/prisma/dev.db");
      expect(report.plan.tables.length).toBeGreaterThan(0);
    } finally {
      await rm(caller, { recursive: true, force: true });
    }
  });

  it("keeps the snapshot directory (a copy of production data) out of git", async () => {
    const repo = path.join(work, "app-repo");
    await mkdir(repo, { recursive: true });
    expect(shell("git init -q .", repo).code).toBe(0);
    const dryTarget = await pg.createDatabase("cutover_cli_git");
    await applyPostgresSchema(dryTarget);
    const result = await run([`--sqlite=${sqlite}`, `--database-url=${dryTarget}`, `--snapshot-dir=${path.join(repo, "snapshots")}`, "--json"]);
    expect(result.code).toBe(0);
    expect(shell("git status --porcelain --untracked-files=all", repo).stdout).toBe("");
    expect(shell("git check-ignore -q cutover-snapshots/dev.db.x", ROOT).code).toBe(0);
  });
});

