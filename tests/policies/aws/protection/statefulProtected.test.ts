import { describe, expect, it } from "vitest";
import { awsStatefulResourceProtected as policy } from "../../../../policies/aws/protection/statefulProtected";
import { evaluatePolicies } from "../../../../policies/evaluate";
import { STATEFUL_TYPES } from "../../../../policies/lib/stateful";
import { runProgram } from "../../../support/harness";
import { fixture, named, run, violation } from "../../fixture";

const unprotected = (name: string) => {
  const plan = fixture();
  named(plan, name).options = {};
  return plan;
};
const message = (type: string) => `${type} is not protected; in production a resource that holds data must carry protect: true, or one \`pulumi destroy\` deletes it.`;

describe("aws-stateful-resource-protected", () => {
  it("passes the happy path", async () => {
    expect(await run(policy, fixture())).toEqual([]);
  });
  it.each([
    ["database-instance", "aws:rds/instance:Instance"],
    ["storage-bucket", "aws:s3/bucket:Bucket"],
    ["cache-group", "aws:elasticache/replicationGroup:ReplicationGroup"],
  ])("flags %s without protect in production", async (name, type) => {
    expect(await run(policy, unprotected(name), "production")).toEqual([violation(policy, name, message(type))]);
  });
  it("does not apply to staging, which must stay destroyable", async () => {
    expect(await run(policy, unprotected("database-instance"), "staging")).toEqual([]);
  });
  it("knows production from the environment stack tag, whatever the stack is called", async () => {
    const findings = await evaluatePolicies(unprotected("storage-bucket"), { stack: "prod-eu", stackTags: { environment: "production" }, policies: [policy] });
    expect(findings).toEqual([violation(policy, "storage-bucket", message("aws:s3/bucket:Bucket"))]);
  });
  it("catches every stateful resource of the real production program once its protection is dropped", async () => {
    const result = await runProgram({ stack: "production" });
    expect(await evaluatePolicies(result.resources, { stack: "production", policies: [policy] })).toEqual([]);
    const stateful = result.resources.filter((r) => (STATEFUL_TYPES as readonly string[]).includes(r.type));
    for (const r of stateful) delete r.options.protect;
    const findings = await evaluatePolicies(result.resources, { stack: "production", policies: [policy] });
    expect(findings.map((f) => f.resource).sort()).toEqual(stateful.map((r) => r.name).sort());
  });
});
