import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT } from "../runbook";
import { listStacks, readSettingsFile, readStackFile, StackFileError, stackFilePath } from "../stackFiles";
import { one, ofType, ROOT, runProgram, stagingArtifact, type ProgramResult } from "./support/harness";

const dir = mkdtempSync(path.join(tmpdir(), "stacks-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The shipped stack file `from`, copied to `Pulumi.<name>.yaml` in a temporary folder with some project keys changed. */
function stackFileLike(from: "staging" | "production", name: string, changes: Record<string, string>): string {
  let text = readFileSync(stackFilePath(from), "utf8");
  for (const [key, value] of Object.entries(changes)) {
    const line = new RegExp(`^  ${PROJECT}:${key}: .*$`, "m");
    text = line.test(text) ? text.replace(line, `  ${PROJECT}:${key}: ${value}`) : text.replace("config:\n", `config:\n  ${PROJECT}:${key}: ${value}\n`);
  }
  const file = path.join(dir, `Pulumi.${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** Every physical name the program sets: RDS identifiers, bucket prefixes, alarm names, service accounts... */
function physicalNames(result: ProgramResult): string[] {
  return result.resources.flatMap((r) => {
    const inputs = r.inputs as { name?: unknown; identifier?: unknown; bucketPrefix?: unknown; replicationGroupId?: unknown; alarmName?: unknown; metadata?: { name?: unknown } };
    return [inputs.name, inputs.identifier, inputs.bucketPrefix, inputs.replicationGroupId, inputs.alarmName, inputs.metadata?.name].filter((n): n is string => typeof n === "string");
  });
}

describe("any stack name, with the environment its file declares", () => {
  it("previews a stack named dev with environment: staging, named by its own prefix and app name", async () => {
    const file = stackFileLike("staging", "dev", { environment: "staging", namePrefix: "acme", appName: "acme-app" });
    // Without cluster.name a new cluster is named like everything else (<namePrefix>-<stack>-eks).
    writeFileSync(file, readFileSync(file, "utf8").replace(/^    name: runbook-staging\n/m, ""));
    const result = await runProgram({ stack: "dev", stackFile: file });
    expect(result.stack).toBe("dev");
    const instance = one(result, "aws:rds/instance:Instance");
    expect(instance.inputs.identifier).toBe("acme-dev-postgres");
    expect(instance.inputs.tags).toMatchObject({ stack: "dev", environment: "staging" });
    // Staging's rules: no protection, no final snapshot; nothing named after another stack or the default prefix.
    expect(instance.options.protect ?? false).toBe(false);
    expect(instance.inputs.skipFinalSnapshot).toBe(true);
    expect(one(result, "aws:eks/cluster:Cluster").inputs.name).toBe("acme-dev-eks");
    const names = physicalNames(result);
    expect(names.length).toBeGreaterThan(20);
    // (The namespace is services.namespace, "runbook" in the copied file: a setting, not a prefix.)
    expect(names.filter((n) => /runbook-|staging/.test(n))).toEqual([]);
    // The application's service account (the log router's, fluent-bit, is the platform's own).
    const accounts = ofType(result, "kubernetes:core/v1:ServiceAccount").map((r) => (r.inputs.metadata as { name: string }).name);
    expect(accounts).toContain("acme-app");
    expect(accounts).not.toContain("runbook-app");
    expect(result.outputs.apiLogGroupName).toBe("/acme/dev/api");
  });

  it("holds a stack named prod with environment: production to production's rules", async () => {
    const file = stackFileLike("production", "prod", { environment: "production" });
    const result = await runProgram({ stack: "prod", stackFile: file });
    const instance = one(result, "aws:rds/instance:Instance");
    expect(instance.inputs.identifier).toBe("runbook-prod-postgres");
    expect(instance.options.protect).toBe(true);
    expect(instance.inputs.deletionProtection).toBe(true);
  });

  it("answers image.verifiedBy offline from the named stack's file here, as that stack would export it", async () => {
    const file = stackFileLike("production", "prod", { environment: "production" });
    const imagesOf = (result: ProgramResult) =>
      ofType(result, "kubernetes:apps/v1:Deployment").map((d) => (d.inputs.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]?.image);
    const result = await runProgram({ stack: "prod", stackFile: file, config: { image: { verifiedBy: "acme/runbook-platform/staging" } } });
    expect(imagesOf(result)).toContain(stagingArtifact());
    const refusal = (verifiedBy: string) =>
      runProgram({ stack: "prod", stackFile: file, config: { image: { verifiedBy } } }).then(
        () => "accepted",
        (error: unknown) => (error as Error).message,
      );
    const refused = (verifiedBy: string, why: string) =>
      `which stack ${verifiedBy} has not run and passed its smoke checks with (its verifiedImageRefs lists 0 artifacts); ` +
      "promote an artifact staging verified (npm run promote), or set image.rollback: true for a deliberate rollback." +
      (why === "" ? "" : ` (${why}; name a stack that has a file here (production, staging))`);
    expect(await refusal("acme/runbook-platform/qa")).toContain(
      refused("acme/runbook-platform/qa", "offline, the preview reads what acme/runbook-platform/qa runs from Pulumi.qa.yaml, which is not here"),
    );
    expect(await refusal("myorg/runbook-platform/staging")).toContain(refused("myorg/runbook-platform/staging", "Pulumi.staging.yaml is a stack of organization acme, not myorg"));
    expect(await refusal("acme/other-project/staging")).toContain(
      refused("acme/other-project/staging", "offline, the preview reads only this project's stacks (runbook-platform), not other-project"),
    );
    // A stack that keeps no smoke records (production, or the stack itself) verifies nothing.
    const production = await refusal("acme/runbook-platform/production");
    expect(production).toContain(refused("acme/runbook-platform/production", ""));
    expect(production).toContain(
      "(Pulumi.production.yaml keeps no smoke records (image.smokeRecords), so acme/runbook-platform/production verifies nothing; name the stack whose smoke checks run, such as a staging stack)",
    );
  });

  it("refuses through npm an artifact staging has not passed: exit 1 (a check failed), one JSON document with --json", () => {
    const file = stackFileLike("production", "prod", { environment: "production" });
    const unverified = stagingArtifact().replace(/@sha256:[a-f0-9]{64}$/, `@sha256:${"ab".repeat(32)}`);
    writeFileSync(file, readFileSync(file, "utf8").replace(/^ {4}ref: .*$/m, `    ref: ${unverified}`));
    const run = spawnSync("npm", ["run", "-s", "start", "--", "--stack", "prod", "--config-file", file, "--json"], { cwd: ROOT, encoding: "utf8" });
    expect(run.status, run.stderr).toBe(1);
    const document = JSON.parse(run.stdout) as { exitCode: number; error: string };
    expect(document.exitCode).toBe(1);
    expect(document.error).toContain(`image.ref is "${unverified}", which stack acme/runbook-platform/staging has not run and passed its smoke checks with`);
  }, 120_000);

  it("previews the dev stack through npm, as the README writes it, exit 0", () => {
    const file = stackFileLike("staging", "dev", { environment: "staging" });
    const run = spawnSync("npm", ["start", "--", "--stack", "dev", "--config-file", file], { cwd: ROOT, encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Offline preview of ${PROJECT}/dev from ${file}`);
    expect(run.stdout).toMatch(/^ {4}api-5xx-rate +runbook-dev-page-api-5xx-rate$/m);
    expect(run.stdout).toMatch(/Summary: \d+ resources .* 0 mandatory policy violations/);
  }, 120_000);
});

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("stack files (stackFiles.ts)", () => {
  it("lists the shipped stacks from their files", () => {
    expect(listStacks()).toEqual(["production", "staging"]);
  });

  it("names the file, line and column of the first YAML syntax error, and counts the rest", () => {
    writeFileSync(path.join(dir, "Pulumi.broken.yaml"), 'config:\n  aws:region: eu-west-1\n  runbook-platform:database:\n    engineVersion: "16"\n   instanceClass: db.t4g.medium\n  runbook-platform:cache: {engine: valkey\n');
    let error: unknown;
    try {
      readStackFile("broken", dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StackFileError);
    const file = path.join(dir, "Pulumi.broken.yaml");
    expect((error as Error).message).toMatch(
      new RegExp(`^${escapeRegExp(file)}:5:1: All mapping items must start at the same column \\(and \\d+ more YAML errors? after it; fix this one first, the rest often follow from it\\)\nFix the YAML syntax of ${escapeRegExp(file)} at that line and column; nothing was registered\\.$`),
    );
    expect((error as StackFileError).exitCode).toBe(2);
  });

  it("reports one unclosed bracket once, not once per line after it", () => {
    writeFileSync(path.join(dir, "Pulumi.bracket.yaml"), `config:\n  runbook-platform:network:\n    privateSubnetIds: [subnet-a, subnet-b\n${"  runbook-platform:x: 1\n".repeat(20)}`);
    expect(() => readStackFile("bracket", dir)).toThrow(new RegExp(`^${escapeRegExp(path.join(dir, "Pulumi.bracket.yaml"))}:4:3: Flow sequence in block collection must be sufficiently indented and end with a \\] \\(and \\d+ more[^\n]+\nFix the YAML syntax`));
  });

  it("refuses a file that is not UTF-8, naming the line, instead of carrying U+FFFD into the plan", () => {
    writeFileSync(path.join(dir, "Pulumi.latin1.yaml"), Buffer.concat([Buffer.from("config:\n  runbook-platform:frontend:\n    contentSecurityPolicy: \"default-src 'self' caf"), Buffer.from([0xe9]), Buffer.from("\"\n")]));
    expect(() => readStackFile("latin1", dir)).toThrow(`${path.join(dir, "Pulumi.latin1.yaml")}:3: not valid UTF-8 (a byte from another encoding, such as Latin-1); save the file as UTF-8`);
    rmSync(path.join(dir, "Pulumi.latin1.yaml"));
  });

  it("names a missing stack file and the stacks that exist", () => {
    expect(() => readStackFile("qa", dir)).toThrow(`${path.join(dir, "Pulumi.qa.yaml")}: no such stack file; create it (copy Pulumi.staging.yaml and set environment) or pick a stack that has one: bracket, broken`);
  });

  it("refuses a directory or a pipe by what it is, instead of calling it missing or reading it forever", () => {
    const folder = path.join(dir, "settings");
    mkdirSync(folder);
    expect(() => readSettingsFile(folder)).toThrow(`${folder}: is a directory; give the stack file itself, such as ${path.join(folder, "Pulumi.staging.yaml")}`);
    const pipe = path.join(dir, "Pulumi.pipe.yaml");
    execFileSync("mkfifo", [pipe]);
    expect(() => readSettingsFile(pipe)).toThrow(`${pipe}: not a regular file (a device or a pipe); give the stack file itself`);
    rmSync(pipe);
    rmSync(folder, { recursive: true });
  });

  it.each([
    ["an alias with no anchor", "config:\n  runbook-platform:tags: *common\n", "Unresolved alias (the anchor must be set before the alias): common"],
    ["aliases that expand without end", `config:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 8 }, (_, i) => `  ${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(", ")}]`).join("\n")}\n`, "Excessive alias count"],
  ])("names the file and the fix for %s", (_, text, message) => {
    const file = path.join(dir, "aliases.yaml");
    writeFileSync(file, text);
    expect(() => readSettingsFile(file)).toThrow(new RegExp(`^${escapeRegExp(file)}: ${escapeRegExp(message)}[^\n]*\nFix the YAML anchors \\(&name\\) and aliases \\(\\*name\\) of ${escapeRegExp(file)}; nothing was registered\\.$`));
    rmSync(file);
  });
});
