import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CliError, connectionUrl, createCommand, EXIT_CODES, POSTGRES_SCHEMES, REDIS_SCHEMES, runCommand, wantsJson, type CliIo } from "../../ops/lib/cli";
import { ROOT } from "../support/harness";
import { runChild } from "../support/spawn";

/** Collects what a command writes, stdout and stderr apart. */
function capture(): { io: CliIo; stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) }, stdout: () => out.join(""), stderr: () => err.join("") };
}

describe("the shared command runner (ops/lib/cli.ts)", () => {
  const program = (io: CliIo) => createCommand("demo", "A demo command", io).option("--json", "one JSON document").option("--count <n>", "a number", (v) => Number(v));

  it("prints help with every flag and the exit codes, and exits 0 without running", async () => {
    const { io, stdout, stderr } = capture();
    let ran = false;
    expect(await runCommand(program(io), ["--help"], async () => ((ran = true), 0), io)).toBe(0);
    expect(ran).toBe(false);
    expect(stdout()).toContain("Usage: npm run demo -- [options]");
    for (const text of ["--json", "--count <n>", "-h, --help", "Exit codes:", "  2  bad usage"]) expect(stdout()).toContain(text);
    expect(stderr()).toBe("");
  });

  it("exits 2 on an unknown flag, once on stderr, with a did-you-mean", async () => {
    const { io, stdout, stderr } = capture();
    expect(await runCommand(program(io), ["--cuont", "3"], async () => 0, io)).toBe(2);
    expect(stderr()).toBe("error: unknown option '--cuont'\n(Did you mean --count?)\n");
    expect(stdout()).toBe("");
  });

  it("exits 2 on an unexpected argument", async () => {
    const { io, stderr } = capture();
    expect(await runCommand(program(io), ["staging"], async () => 0, io)).toBe(2);
    expect(stderr()).toContain("too many arguments");
  });

  it("passes the parsed options and returns the action's exit code", async () => {
    const { io } = capture();
    expect(await runCommand<{ count?: number }>(program(io), ["--count", "3"], async (o) => o.count ?? 0, io)).toBe(3);
  });

  it("turns a thrown error into its exit code and one line, without a stack trace", async () => {
    const { io, stdout, stderr } = capture();
    expect(await runCommand(program(io), [], async () => Promise.reject(new CliError("Pulumi.dev.yaml:3:5: bad indentation")), io)).toBe(2);
    expect(stderr()).toBe("demo: Pulumi.dev.yaml:3:5: bad indentation\n");
    expect(stdout()).toBe("");
    const incomplete = capture();
    expect(await runCommand(program(incomplete.io), [], async () => Promise.reject(new CliError("2 checks could not run", 3)), incomplete.io)).toBe(3);
  });

  it("with --json, a failure still leaves exactly one JSON document on stdout", async () => {
    const usage = capture();
    expect(await runCommand(program(usage.io), ["--json", "--cuont"], async () => 0, usage.io)).toBe(2);
    expect(JSON.parse(usage.stdout())).toEqual({ command: "demo", exitCode: 2, error: "unknown option '--cuont'\n(Did you mean --count?)" });
    const thrown = capture();
    expect(await runCommand(program(thrown.io), ["--json"], async () => Promise.reject(new Error("no DATABASE_URL")), thrown.io)).toBe(2);
    expect(JSON.parse(thrown.stdout())).toEqual({ command: "demo", exitCode: 2, error: "no DATABASE_URL" });
  });

  it("is the README's exit-code table, row for row", () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    const block = /<!-- exit-codes:start -->\n([\s\S]*?)\n<!-- exit-codes:end -->/.exec(readme)?.[1];
    expect(block).toBe(["| code | meaning |", "|---|---|", ...EXIT_CODES.map((e) => `| ${e.code} | ${e.meaning} |`)].join("\n"));
  });

  it("reads --json only before a --", () => {
    expect(wantsJson(["--stack", "dev", "--json"])).toBe(true);
    expect(wantsJson(["--", "--json"])).toBe(false);
  });
});

/** Runs `npm run -s <script> -- ...args` exactly as the README writes commands. */
async function npm(script: string, args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const npmArgs = script === "start" ? ["-s", "start", "--", ...args] : ["run", "-s", script, "--", ...args];
  const { code, stdout, stderr } = await runChild("npm", npmArgs, { ...process.env, ...env });
  return { status: code, stdout, stderr };
}

/** Runs `jobs` with at most `limit` at a time (each is a child process). */
async function limited<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await (jobs[index] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

/** Every command the README documents: each npm script but the test suite. */
const scripts = Object.keys((JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts).filter((s) => s !== "test");

describe("connection URLs are checked before anything connects (ops/lib/cli.ts connectionUrl)", () => {
  const refusal = (value: string, schemes: readonly string[]) => {
    try {
      connectionUrl(value, "DATABASE_URL", schemes);
    } catch (error) {
      return { code: (error as CliError).exitCode, message: (error as Error).message };
    }
    return undefined;
  };
  it("accepts PostgreSQL and Redis URLs, a Unix socket through ?host= included", () => {
    expect(connectionUrl("postgresql://app:pw@db.internal:5432/app?sslmode=verify-full", "DATABASE_URL", POSTGRES_SCHEMES)).toContain("db.internal");
    expect(connectionUrl("postgres:///app?host=/var/run/postgresql", "DATABASE_URL", POSTGRES_SCHEMES)).toContain("/var/run/postgresql");
    expect(connectionUrl("rediss://:token@cache.internal:6379", "REDIS_URL", REDIS_SCHEMES)).toContain("cache.internal");
  });
  it("refuses what is not a URL, another scheme and a missing host with exit 2, naming the source and never the password", () => {
    expect(refusal("not a url", POSTGRES_SCHEMES)).toEqual({ code: 2, message: "DATABASE_URL is not a URL; give one such as postgresql://user:password@host:port/..." });
    expect(refusal("mysql://root:s3cret@db:3306/app", POSTGRES_SCHEMES)?.message).toMatch(/^DATABASE_URL must be a postgresql:\/\/ or postgres:\/\/ URL with a host \(got scheme "mysql"\)/);
    expect(refusal("mysql://root:s3cret@db:3306/app", POSTGRES_SCHEMES)?.message).not.toContain("s3cret");
    expect(refusal("http://:pw@x", REDIS_SCHEMES)?.code).toBe(2);
    expect(refusal("postgres:///app", POSTGRES_SCHEMES)?.code).toBe(2);
  });
});

describe("every command, through npm", () => {
  it("lists the commands", () => {
    expect(scripts).toEqual(expect.arrayContaining(["start", "bench", "config:table", "ops:staging-smoke", "ops:incident-check", "ops:configure-branch-protection", "ops:db:validate-integrity", "migrate:sqlite-to-postgres", "drill:local", "alarms:replay", "promote"]));
  });

  it("--help prints every flag and the exit codes, exit 0; a mistyped --hlep exits 2 with a did-you-mean", async () => {
    const runs = await limited(
      scripts.flatMap((script) => [() => npm(script, ["--help"]).then((run) => ({ script, flag: "--help", run })), () => npm(script, ["--hlep"]).then((run) => ({ script, flag: "--hlep", run }))]),
      3,
    );
    for (const { script, flag, run } of runs) {
      if (flag === "--help") {
        expect({ script, status: run.status, stderr: run.stderr }).toEqual({ script, status: 0, stderr: "" });
        expect(run.stdout, script).toMatch(/^Usage: npm (run \S+|start) -- \[options\]$/m);
        expect(run.stdout, script).toContain("-h, --help");
        expect(run.stdout, script).toContain("Exit codes:");
      } else {
        expect({ script, status: run.status, stdout: run.stdout }).toEqual({ script, status: 2, stdout: "" });
        expect(run.stderr, script).toContain("error: unknown option '--hlep'\n(Did you mean --help?)");
      }
    }
  }, 240_000);
});

describe("--json through npm", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "cli-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a failing staging smoke prints exactly one JSON document, exit 1", async () => {
    // A port nobody listens on: every HTTP check fails.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const run = await npm("ops:staging-smoke", [`--base-url=http://127.0.0.1:${port}`, "--timeout-ms=2000", "--json"]);
    expect(run.status, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout) as { command: string; exitCode: number; results: { check: string; status: string; detail: string }[] };
    expect(report.exitCode).toBe(1);
    expect(report.results[0]).toMatchObject({ check: "TLS", status: "fail" });
    expect(report.results[0]?.detail).toContain("--allow-http");
  }, 60_000);

  it("a usage error prints exactly one JSON document, exit 2", async () => {
    const run = await npm("ops:incident-check", ["--json"]);
    expect(run.status).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({ command: "ops:incident-check", exitCode: 2, error: "--base-url is required, such as --base-url=https://api.example.com" });
  }, 60_000);

  it("a YAML syntax error in a stack file names the file, line and column, exit 2, no stack trace", async () => {
    const file = path.join(dir, "Pulumi.dev.yaml");
    writeFileSync(file, "config:\n  aws:region: eu-west-1\n  runbook-platform:database:\n    engineVersion: \"16\"\n   instanceClass: db.t4g.medium\n");
    const run = await npm("start", ["--stack", "dev", "--config-file", file, "--json"]);
    expect(run.status).toBe(2);
    const doc = JSON.parse(run.stdout) as { exitCode: number; error: string };
    expect(doc.exitCode).toBe(2);
    expect(doc.error).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:5:1: All mapping items must start at the same column`));
    expect(run.stderr).toContain(`${file}:5:1:`);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);
});
