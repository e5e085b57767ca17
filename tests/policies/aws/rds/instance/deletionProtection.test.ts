import { describe, expect, it } from "vitest";
import { awsRdsInstanceDeletionProtection as policy } from "../../../../../policies/aws/rds/instance/deletionProtection";
import { evaluatePolicies } from "../../../../../policies/evaluate";
import { fixture, named, run, violation } from "../../../fixture";

const unprotected = (value: boolean | undefined) => {
  const plan = fixture();
  named(plan, "database-instance").inputs.deletionProtection = value;
  return plan;
};

describe("aws-rds-instance-deletion-protection", () => {
  it("passes the happy path", async () => {
    expect(await run(policy, fixture())).toEqual([]);
  });
  it("flags production without deletion protection", async () => {
    expect(await run(policy, unprotected(false), "production")).toEqual([
      violation(policy, "database-instance", "deletionProtection is false; production databases must not be deletable by one command."),
    ]);
    expect(await run(policy, unprotected(undefined), "production")).toEqual([
      violation(policy, "database-instance", "deletionProtection is not set; production databases must not be deletable by one command."),
    ]);
  });
  it("does not apply to staging", async () => {
    expect(await run(policy, unprotected(false), "staging")).toEqual([]);
  });
  it("knows production from the environment stack tag, whatever the stack is called", async () => {
    expect(await evaluateTagged()).toEqual([violation(policy, "database-instance", "deletionProtection is false; production databases must not be deletable by one command.")]);
  });
  it("remediates in production", async () => {
    expect(await run(policy, unprotected(false), "production", { [policy.name]: "remediate" })).toEqual([
      { policy: policy.name, resource: "database-instance", level: "remediate", message: "remediated: deletionProtection = true" },
    ]);
  });
});

function evaluateTagged() {
  return evaluatePolicies(unprotected(false), { stack: "prod-eu", stackTags: { environment: "production" }, policies: [policy] });
}
