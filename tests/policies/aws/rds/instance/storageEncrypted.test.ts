import { describe, expect, it } from "vitest";
import { awsRdsInstanceStorageEncrypted as policy } from "../../../../../policies/aws/rds/instance/storageEncrypted";
import { fixture, named, run, violation } from "../../../fixture";

describe("aws-rds-instance-storage-encrypted", () => {
  it("passes the happy path", async () => {
    expect(await run(policy, fixture())).toEqual([]);
  });
  it.each([
    [false, "storageEncrypted is false; the database and its snapshots must be encrypted at rest."],
    [undefined, "storageEncrypted is not set; the database and its snapshots must be encrypted at rest."],
  ])("flags storageEncrypted %s", async (value, message) => {
    const plan = fixture();
    named(plan, "database-instance").inputs.storageEncrypted = value;
    expect(await run(policy, plan)).toEqual([violation(policy, "database-instance", message)]);
  });
  it("offers no remediation: encrypting an existing instance replaces it", () => {
    expect(policy).not.toHaveProperty("remediateResource");
  });
});
