import { describe, expect, it } from "vitest";
import { awsRdsInstanceNotPublic } from "../../policies/aws/rds/instance/publiclyAccessible";
import { awsRdsInstanceStorageEncrypted } from "../../policies/aws/rds/instance/storageEncrypted";
import { evaluatePolicies } from "../../policies/evaluate";
import { fixture, named } from "./fixture";

const exposed = () => {
  const plan = fixture();
  Object.assign(named(plan, "database-instance").inputs, { publiclyAccessible: true, storageEncrypted: false });
  return plan;
};
const policies = [awsRdsInstanceNotPublic, awsRdsInstanceStorageEncrypted];
const levels = async (config: Parameters<typeof evaluatePolicies>[1]["config"]) =>
  (await evaluatePolicies(exposed(), { stack: "production", policies, config })).map((f) => [f.policy, f.level]);

describe("evaluatePolicies: enforcement levels from the pack's config", () => {
  it("reports every policy as mandatory by default", async () => {
    expect(await levels(undefined)).toEqual([
      ["aws-rds-instance-not-public", "mandatory"],
      ["aws-rds-instance-storage-encrypted", "mandatory"],
    ]);
  });
  it("lowers every policy with `all`, and a policy's own level wins over `all`", async () => {
    expect(await levels({ all: "advisory" })).toEqual([
      ["aws-rds-instance-not-public", "advisory"],
      ["aws-rds-instance-storage-encrypted", "advisory"],
    ]);
    expect(await levels({ all: "advisory", "aws-rds-instance-not-public": { enforcementLevel: "mandatory" } })).toEqual([
      ["aws-rds-instance-not-public", "mandatory"],
      ["aws-rds-instance-storage-encrypted", "advisory"],
    ]);
  });
  it("skips disabled policies", async () => {
    expect(await levels({ "aws-rds-instance-storage-encrypted": "disabled" })).toEqual([["aws-rds-instance-not-public", "mandatory"]]);
  });
  it("runs remediations before validations, and reports what is left as mandatory", async () => {
    expect(await evaluatePolicies(exposed(), { stack: "production", policies, config: { all: "remediate" } })).toEqual([
      { policy: "aws-rds-instance-not-public", resource: "database-instance", level: "remediate", message: "remediated: publiclyAccessible = false" },
      { policy: "aws-rds-instance-storage-encrypted", resource: "database-instance", level: "mandatory", message: "storageEncrypted is false; the database and its snapshots must be encrypted at rest." },
    ]);
  });
  it("does not change the plan it was given", async () => {
    const plan = exposed();
    await evaluatePolicies(plan, { stack: "production", policies, config: { all: "remediate" } });
    expect(named(plan, "database-instance").inputs.publiclyAccessible).toBe(true);
  });
  it("names the policy and resource when a policy throws", async () => {
    const broken = { ...awsRdsInstanceNotPublic, name: "broken", remediateResource: undefined, validateResource: () => { throw new Error("boom"); } };
    await expect(evaluatePolicies(fixture(), { stack: "production", policies: [broken] })).rejects.toThrow("policy broken failed on database-instance: boom");
  });
});
