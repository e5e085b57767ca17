import { describe, expect, it } from "vitest";
import { awsRdsInstanceDailyBackupPlan as policy, isDailySchedule } from "../../../../../policies/aws/rds/instance/dailyBackupPlan";
import { fixture, named, run, violation } from "../../../fixture";

describe("aws-rds-instance-daily-backup-plan", () => {
  it("passes the happy path", async () => {
    expect(await run(policy, fixture())).toEqual([]);
  });
  it("recognises daily AWS cron schedules only", () => {
    expect(isDailySchedule("cron(0 3 * * ? *)")).toBe(true);
    expect(isDailySchedule("cron(30 23 * * * *)")).toBe(true);
    expect(isDailySchedule("cron(0 3 ? * MON *)")).toBe(false);
    expect(isDailySchedule("rate(1 day)")).toBe(false);
    expect(isDailySchedule(undefined)).toBe(false);
  });
  it("flags an instance no selection includes", async () => {
    const plan = fixture();
    const selection = named(plan, "database-backup-selection");
    selection.inputs.resources = ["arn:aws:rds:eu-west-1:123456789012:db:another"];
    selection.propertyDependencies = { planId: selection.propertyDependencies?.planId ?? [] };
    expect(await run(policy, plan)).toEqual([
      violation(policy, "database-instance", "database-instance: no AWS Backup selection includes this instance; the runbook wants automated daily snapshots."),
    ]);
  });
  it("matches a selection by ARN when the engine sent no dependencies (stack outputs)", async () => {
    const plan = fixture();
    named(plan, "database-backup-selection").propertyDependencies = { planId: named(plan, "database-backup-selection").propertyDependencies?.planId ?? [] };
    named(plan, "database-instance").inputs.arn = "arn:aws:rds:eu-west-1:123456789012:db:runbook-production-postgres";
    expect(await run(policy, plan)).toEqual([]);
  });
  it("does not count a daily continuous-backup (PITR) rule as daily snapshots", async () => {
    const plan = fixture();
    named(plan, "database-backup-plan").inputs.rules = [{ ruleName: "continuous-pitr", schedule: "cron(0 3 * * ? *)", enableContinuousBackup: true }];
    expect(await run(policy, plan)).toEqual([
      violation(policy, "database-instance", "database-instance: the AWS Backup plans that include this instance (database-backup-plan) have no daily snapshot rule (schedules: cron(0 3 * * ? *))."),
    ]);
  });
  it("flags a plan whose only rule is weekly", async () => {
    const plan = fixture();
    named(plan, "database-backup-plan").inputs.rules = [{ ruleName: "weekly", schedule: "cron(0 3 ? * SUN *)" }];
    expect(await run(policy, plan)).toEqual([
      violation(policy, "database-instance", "database-instance: the AWS Backup plans that include this instance (database-backup-plan) have no daily snapshot rule (schedules: cron(0 3 ? * SUN *))."),
    ]);
  });
});
