import { describe, expect, it } from "vitest";
import { evaluatePolicies } from "../../policies/evaluate";
import { STACKS } from "../../runbook";
import { runProgram } from "../support/harness";

describe.each(STACKS)("the %s stack", (stack) => {
  it("passes every policy of the pack (nothing mandatory, nothing advisory)", async () => {
    const result = await runProgram({ stack });
    expect(await evaluatePolicies(result.resources, { stack })).toEqual([]);
  });
});

describe("policies over the real program catch what they guard", () => {
  it("flags the production database with backups off and a plain-text password", async () => {
    const result = await runProgram({ stack: "production" });
    const instance = result.resources.find((r) => r.type === "aws:rds/instance:Instance");
    if (!instance) throw new Error("the program registered no RDS instance");
    instance.inputs.backupRetentionPeriod = 0;
    instance.inputs.password = "postgres-password-in-plain-text";
    const findings = await evaluatePolicies(result.resources, { stack: "production" });
    expect(findings.map((f) => `${f.policy} ${f.resource}`)).toEqual([
      `aws-rds-instance-backup-enabled ${instance.name}`,
      `aws-rds-instance-backup-retention ${instance.name}`,
      `no-plain-secrets ${instance.name}`,
    ]);
  });
});
