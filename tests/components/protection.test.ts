import { describe, expect, it } from "vitest";
import { STATEFUL_TYPES } from "../../components/protection";
import { ofType, one, runProgram, type ProgramResult, type RecordedResource } from "../support/harness";

/**
 * What `pulumi destroy` and a replacing change may do to the data, read from the options each
 * registration carried to the engine (tests/support/harness.ts records them from the request).
 */

const stateful = (result: ProgramResult) => result.resources.filter((r) => (STATEFUL_TYPES as readonly string[]).includes(r.type));

/** Every path under `value` where a `forceDestroy` input is true. */
function forceDestroyPaths(value: unknown, at: string): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => forceDestroyPaths(v, `${at}[${i}]`));
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => (k === "forceDestroy" && v === true ? [`${at}.${k}`] : forceDestroyPaths(v, `${at}.${k}`)));
}

/** Inputs that fix a resource's physical name (as opposed to a generated name or a prefix). */
const PHYSICAL_NAME_INPUTS = ["name", "identifier", "replicationGroupId"] as const;
const hasPhysicalName = (r: RecordedResource) => r.custom && r.type.startsWith("aws:") && PHYSICAL_NAME_INPUTS.some((k) => typeof r.inputs[k] === "string");

describe("production", () => {
  it("protects every stateful resource: the database, the cache, every bucket, every KMS key and backup vault", async () => {
    const result = await runProgram({ stack: "production" });
    const found = stateful(result);
    expect(new Set(found.map((r) => r.type))).toEqual(new Set(STATEFUL_TYPES));
    expect(found.filter((r) => !r.options.protect).map((r) => r.name)).toEqual([]);
  });

  it("has no force-destroy anywhere: a destroy never empties a bucket or a vault", async () => {
    const result = await runProgram({ stack: "production" });
    expect(result.resources.flatMap((r) => forceDestroyPaths(r.inputs, r.name))).toEqual([]);
  });

  it("keeps the disk RDS grew: allocatedStorage is ignored while storage autoscaling is on, and only then", async () => {
    const autoscaling = await runProgram({ stack: "production" });
    expect(one(autoscaling, "aws:rds/instance:Instance").options).toEqual({ protect: true, deleteBeforeReplace: true, ignoreChanges: ["allocatedStorage"] });
    const fixed = await runProgram({ stack: "production", config: { database: { allocatedStorageGb: 200, maxAllocatedStorageGb: 200 } } });
    expect(one(fixed, "aws:rds/instance:Instance").options.ignoreChanges).toBeUndefined();
  });
});

describe("staging", () => {
  it("protects nothing, and its buckets and vault empty themselves on `pulumi destroy`", async () => {
    const result = await runProgram({ stack: "staging" });
    expect(result.resources.filter((r) => r.options.protect).map((r) => r.name)).toEqual([]);
    const emptied = [...ofType(result, "aws:s3/bucket:Bucket"), ...ofType(result, "aws:backup/vault:Vault")].filter((r) => !r.options.retainOnDelete);
    expect(emptied.length).toBeGreaterThan(2);
    for (const r of emptied) expect(r.inputs.forceDestroy, r.name).toBe(true);
  });
});

describe.each(["staging", "production"] as const)("%s", (stack) => {
  it("retains KMS keys, backup vaults and the drill records when the stack deletes them", async () => {
    const result = await runProgram({ stack });
    const retained = result.resources.filter((r) => r.options.retainOnDelete);
    const mustRetain = [...ofType(result, "aws:kms/key:Key"), ...ofType(result, "aws:backup/vault:Vault"), one(result, "aws:s3/bucket:Bucket", "database-restore-drill-records")];
    expect(retained.map((r) => r.name).sort()).toEqual(mustRetain.map((r) => r.name).sort());
  });

  it("gives every KMS key a deletion window to cancel a mistaken delete in", async () => {
    const result = await runProgram({ stack });
    for (const key of ofType(result, "aws:kms/key:Key")) expect(key.inputs.deletionWindowInDays, key.name).toBe(30);
  });

  it("deletes before replacing every data-tier resource with an explicit physical name", async () => {
    const result = await runProgram({ stack });
    const dataTier = new Set(["database", "cache", "storage"]);
    const explicit = result.resources.filter((r) => hasPhysicalName(r) && dataTier.has(r.parentName ?? ""));
    expect(explicit.map((r) => r.type)).toEqual(expect.arrayContaining(["aws:rds/instance:Instance", "aws:elasticache/replicationGroup:ReplicationGroup", "aws:backup/vault:Vault"]));
    expect(explicit.filter((r) => !r.options.deleteBeforeReplace).map((r) => r.name)).toEqual([]);
  });
});
