import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropLocalSnapshots, takeLocalSnapshot } from "../../ops/restore";
import { seedSampleDatabase } from "../../ops/restore/sample";
import { databaseNames, query, startPostgres, type PostgresServer } from "../support/postgres";

/**
 * "Always deletes the temporary database, also when ... the process is interrupted": a real drill
 * in its own Node process (as `pulumi up` or `npm run drill:local` runs it) receives SIGINT or
 * SIGTERM mid-run, and the temporary database must be gone when the process has exited.
 */

let pg: PostgresServer;
const TEMPORARY = "drill_interrupted";

interface Drill {
  child: ChildProcess;
  lines: string[];
  /** What the drill wrote on stderr, for a failed assertion's message. */
  stderr(): string;
  /** Resolves when the drill printed this step line. */
  reached(line: string): Promise<void>;
  exited: Promise<number | null>;
}

function startDrill(): Drill {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "restore-interrupt.child.ts")], {
    env: { ...process.env, DRILL_ADMIN_URL: pg.url() },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters: { line: string; resolve(): void }[] = [];
  let buffer = "";
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout?.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split("\n");
    buffer = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      for (const w of waiters.filter((w) => w.line === line)) w.resolve();
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    reached: (line) =>
      lines.includes(line)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiters.push({ line, resolve });
            void exited.then(() => reject(new Error(`the drill exited before "${line}"; it printed ${lines.join(", ")}`)));
          }),
  };
}

/** Waits until the server runs no statement matching `pattern` (a CREATE DATABASE the drill left running). */
async function settled(pattern: string): Promise<void> {
  for (;;) {
    const rows = await query<{ n: string }>(pg.url(), `SELECT count(*)::text AS n FROM pg_stat_activity WHERE query ILIKE '${pattern}' AND pid <> pg_backend_pid()`);
    if (rows[0]?.n === "0") return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  pg = await startPostgres();
  await seedSampleDatabase(await pg.createDatabase("app"), 50);
});

afterAll(async () => {
  await pg?.stop();
});

describe("an interrupted drill deletes its temporary database", () => {
  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("%s during the validation: exit %i, the temporary database gone, the source and snapshot kept", async (signal, code) => {
    await dropLocalSnapshots(pg.url(), "app");
    const snapshot = await takeLocalSnapshot(pg.url(), "app");
    const drill = startDrill();
    await drill.reached("validate:start");
    expect(await databaseNames(pg)).toContain(TEMPORARY);
    drill.child.kill(signal);
    expect(await drill.exited, `${drill.lines.join(", ")}\n${drill.stderr()}`).toBe(code);
    expect(drill.lines.filter((line) => line.startsWith("cleanup:"))).toEqual(["cleanup:start", "cleanup:done"]);
    // The validation may still finish (failing against the dropped database); no later step starts.
    expect(drill.lines.slice(drill.lines.indexOf("validate:start") + 1).filter((line) => line.endsWith(":start"))).toEqual(["cleanup:start"]);
    expect(await databaseNames(pg)).toEqual(["app", snapshot, "postgres"]);
  });

  it("SIGINT while the restore is still copying: the deletion waits for the copy, so it cannot leave it behind", async () => {
    await dropLocalSnapshots(pg.url(), "app");
    const snapshot = await takeLocalSnapshot(pg.url(), "app");
    // A session on the snapshot holds CREATE DATABASE ... TEMPLATE in its wait for other users
    // (PostgreSQL waits up to 5 s), so the restore is in flight on the server when the signal lands.
    const holder = new Client({ connectionString: pg.url(snapshot) });
    await holder.connect();
    let held = true;
    try {
      const drill = startDrill();
      await drill.reached("restore:start");
      while ((await query<{ n: string }>(pg.url(), "SELECT count(*)::text AS n FROM pg_stat_activity WHERE query ILIKE 'CREATE DATABASE%'"))[0]?.n !== "1") {
        await new Promise((r) => setTimeout(r, 50));
      }
      drill.child.kill("SIGINT");
      await drill.reached("cleanup:start");
      // Long enough for a deletion that did not wait to find nothing and exit.
      await new Promise((r) => setTimeout(r, 500));
      await holder.end();
      held = false;
      expect(await drill.exited).toBe(130);
      // The restore landed after the signal; the drill must not go on to use what it is deleting.
      expect(drill.lines).not.toContain("available:start");
      await settled("CREATE DATABASE%");
      expect(await databaseNames(pg)).toEqual(["app", snapshot, "postgres"]);
    } finally {
      if (held) await holder.end();
    }
  });
});
