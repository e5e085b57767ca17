import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { countByType, renderTree, toPlan, type Plan } from "../../scripts/preview";
import { ROOT, runProgram, type RecordedResource } from "../support/harness";

const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");

function preview(args: string[]) {
  return spawnSync(TSX, ["scripts/preview.ts", ...args], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
}

describe("npm start (offline preview)", () => {
  it("takes the stack's name from a --config-file named Pulumi.<stack>.yaml, and asks for --stack otherwise (exit 2)", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "preview-config-file-"));
    try {
      const named = path.join(dir, "Pulumi.qa.yaml");
      copyFileSync(path.join(ROOT, "Pulumi.staging.yaml"), named);
      const run = preview(["--config-file", named, "--json"]);
      expect(run.status, run.stderr).toBe(0);
      expect((JSON.parse(run.stdout) as Plan).stack).toBe("qa");
      const other = path.join(dir, "settings.yaml");
      copyFileSync(named, other);
      const refused = preview(["--config-file", other]);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toBe(`start: --config-file ${other} is not named Pulumi.<stack>.yaml: pass --stack <name> with it\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("prints the production plan as JSON of the documented shape, secrets replaced", async () => {
    const run = preview(["--stack", "production", "--json"]);
    expect(run.status, run.stderr).toBe(0);
    const plan = JSON.parse(run.stdout) as Plan;
    expect(Object.keys(plan)).toEqual(["stack", "resources", "outputs", "policies"]);
    expect(plan.stack).toBe("production");
    for (const resource of plan.resources) expect(Object.keys(resource)).toEqual(["type", "name", "parent", "inputs", "options"]);
    // The options the engine receives: the database is protected, its key also retained, autoscaled storage left alone.
    const named = (name: string) => plan.resources.find((r) => r.name === name)?.options;
    expect(named("database-instance")).toEqual({ protect: true, deleteBeforeReplace: true, ignoreChanges: ["allocatedStorage"] });
    expect(named("database-key")).toEqual({ protect: true, retainOnDelete: true });
    expect(named("storage-lifecycle")?.dependsOn).toEqual([expect.stringMatching(/::storage-versioning$/)]);
    // @pulumi/aws aliases the resources it renamed in v7, so state written under the old type is adopted.
    expect(named("storage-lifecycle")?.aliases).toEqual([
      { type: "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", parenturn: expect.stringMatching(/runbook-platform:data:Storage::storage$/) },
    ]);
    expect(plan.policies.filter((p) => p.level === "mandatory")).toEqual([]);

    // Every value the program marks secret is absent from the plan; its place says "[secret]".
    const result = await runProgram({ stack: "production" });
    const secretValues = new Set<string>();
    for (const r of result.resources) {
      for (const p of r.secretPaths) {
        const value = p.split(/\.|\[(\d+)\]/).filter(Boolean).reduce<unknown>((node, key) => (node as Record<string, unknown>)[key as string], r.inputs);
        for (const v of typeof value === "object" && value !== null ? Object.values(value) : [value]) if (typeof v === "string" && v.length > 8) secretValues.add(v);
      }
    }
    for (const key of result.secretOutputs) secretValues.add(String(result.outputs[key]));
    expect(secretValues.size).toBeGreaterThan(2);
    for (const secret of secretValues) expect(run.stdout).not.toContain(secret);
    expect(plan.outputs.databaseUrl).toBe("[secret]");
    expect(plan.outputs.redisUrl).toBe("[secret]");
    // Every stack output has its key; what only pulumi up knows says so.
    expect(Object.keys(plan.outputs).sort()).toEqual(Object.keys(result.outputs).sort());
    expect(plan.outputs.restoreDrillPassed).toBe("[known after pulumi up]");
  });

  it("prints the staging plan as a tree with counts and a summary, saying it needs no cloud", () => {
    const run = preview([]);
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toBe(
      "Offline preview of runbook-platform/staging from Pulumi.staging.yaml: Pulumi mock runtime, no Pulumi CLI, no cloud credentials, no network.",
    );
    expect(run.stdout).toMatch(/^database {2}runbook-platform:data:Database {2}\(\d+ resources\)$/m);
    expect(run.stdout).toMatch(/^├─ database-instance {2}aws:rds\/instance:Instance$/m);
    expect(run.stdout).toMatch(/^├─ database-key {2}aws:kms\/key:Key {2}\[retained\]$/m);
    expect(run.stdout).toContain("Resources by type:");
    expect(lines.at(-1)).toMatch(/^Summary: \d+ resources \(\d+ components, \d+ cloud and Kubernetes resources\), \d+ outputs, 0 mandatory policy violations, \d+ advisory findings; \d+\.\d s\.$/);
  });
});

describe("preview rendering", () => {
  const resource = (name: string, type: string, parent?: string): RecordedResource => ({
    type,
    name,
    urn: `urn:${name}`,
    parent: parent && `urn:${parent}`,
    parentName: parent,
    custom: !type.startsWith("runbook-platform:"),
    inputs: {},
    secretPaths: [],
    provider: undefined,
    options: {},
  });
  const resources = [
    resource("db", "runbook-platform:data:Database"),
    { ...resource("db-key", "aws:kms/key:Key", "db"), options: { protect: true, retainOnDelete: true } as const },
    resource("db-instance", "aws:rds/instance:Instance", "db"),
    resource("db-instance-drill", "pulumi-nodejs:dynamic:Resource", "db-instance"),
    resource("cache", "runbook-platform:data:Cache"),
  ];

  it("draws components with nested children and descendant counts", () => {
    expect(renderTree(resources)).toEqual([
      "db  runbook-platform:data:Database  (3 resources)",
      "├─ db-key  aws:kms/key:Key  [protected, retained]",
      "└─ db-instance  aws:rds/instance:Instance  (1 resources)",
      "   └─ db-instance-drill  pulumi-nodejs:dynamic:Resource",
      "cache  runbook-platform:data:Cache",
    ]);
  });

  it("counts resources per type, most frequent first", () => {
    expect(countByType([...resources, resource("k2", "aws:kms/key:Key", "db")])[0]).toEqual(["aws:kms/key:Key", 2]);
  });

  it("names the parent and redacts secrets in the plan", () => {
    const secret = { ...resource("db-instance", "aws:rds/instance:Instance", "db"), inputs: { password: "hunter2-long" }, secretPaths: ["password"], options: { protect: true } as const };
    const plan = toPlan({ stack: "staging", resources: [secret], outputs: { url: "postgresql://x", id: "i-1" }, secretOutputs: ["url"] }, []);
    expect(plan).toEqual({
      stack: "staging",
      resources: [{ type: "aws:rds/instance:Instance", name: "db-instance", parent: "db", inputs: { password: "[secret]" }, options: { protect: true } }],
      outputs: { url: "[secret]", id: "i-1" },
      policies: [],
    });
  });
});
