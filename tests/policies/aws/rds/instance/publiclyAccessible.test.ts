import { describe, expect, it } from "vitest";
import { awsRdsInstanceNotPublic as policy } from "../../../../../policies/aws/rds/instance/publiclyAccessible";
import { fixture, named, run, violation } from "../../../fixture";

describe("aws-rds-instance-not-public", () => {
  it("passes the happy path", async () => {
    expect(await run(policy, fixture())).toEqual([]);
  });
  it.each([
    [true, "publiclyAccessible is true; set it to false so the database has no public endpoint."],
    [undefined, "publiclyAccessible is not set; set it to false so the database has no public endpoint."],
  ])("flags publiclyAccessible %s", async (value, message) => {
    const plan = fixture();
    named(plan, "database-instance").inputs.publiclyAccessible = value;
    expect(await run(policy, plan)).toEqual([violation(policy, "database-instance", message)]);
  });
  it("remediates to false when the pack says remediate, leaving nothing mandatory", async () => {
    const plan = fixture();
    named(plan, "database-instance").inputs.publiclyAccessible = true;
    expect(await run(policy, plan, "production", { [policy.name]: "remediate" })).toEqual([
      { policy: policy.name, resource: "database-instance", level: "remediate", message: "remediated: publiclyAccessible = false" },
    ]);
  });
});
