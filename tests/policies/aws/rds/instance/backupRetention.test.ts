import { describe, expect, it } from "vitest";
import { awsRdsInstanceBackupEnabled as enabled, awsRdsInstanceBackupRetention as retention, minimumRetentionDays } from "../../../../../policies/aws/rds/instance/backupRetention";
import { MIN_BACKUP_RETENTION_DAYS } from "../../../../../runbook";
import { fixture, named, run, violation } from "../../../fixture";

const withRetention = (days: number | undefined) => {
  const plan = fixture();
  named(plan, "database-instance").inputs.backupRetentionPeriod = days;
  return plan;
};

describe("aws-rds-instance-backup-enabled (is it on)", () => {
  it("passes the happy path", async () => {
    expect(await run(enabled, fixture())).toEqual([]);
  });
  it("flags an unset retention", async () => {
    expect(await run(enabled, withRetention(undefined))).toEqual([
      violation(enabled, "database-instance", "backupRetentionPeriod is not set: RDS then keeps no automated backups, so there is no PITR."),
    ]);
  });
  it("flags 0 days", async () => {
    expect(await run(enabled, withRetention(0))).toEqual([
      violation(enabled, "database-instance", "backupRetentionPeriod is 0: automated backups, and with them PITR, are off."),
    ]);
  });
  it("does not judge the length: 1 day is on", async () => {
    expect(await run(enabled, withRetention(1))).toEqual([]);
  });
});

describe("aws-rds-instance-backup-retention (is it at least N)", () => {
  it("reads the minimum per stack from runbook.ts (7 days in staging, 14 in production)", () => {
    expect(minimumRetentionDays("staging")).toBe(7);
    expect(minimumRetentionDays("production")).toBe(14);
    expect(minimumRetentionDays(undefined)).toBe(7);
  });
  it("passes production at its minimum and staging at its own", async () => {
    expect(await run(retention, withRetention(MIN_BACKUP_RETENTION_DAYS.production), "production")).toEqual([]);
    expect(await run(retention, withRetention(MIN_BACKUP_RETENTION_DAYS.staging), "staging")).toEqual([]);
  });
  it("flags production one day short, which staging accepts", async () => {
    const days = MIN_BACKUP_RETENTION_DAYS.production - 1;
    expect(await run(retention, withRetention(days), "production")).toEqual([
      violation(retention, "database-instance", `backupRetentionPeriod is ${days}; production keeps automated backups (the PITR window) at least ${MIN_BACKUP_RETENTION_DAYS.production} days.`),
    ]);
    expect(await run(retention, withRetention(days), "staging")).toEqual([]);
  });
  it("flags unset and 0 as violations too", async () => {
    expect(await run(retention, withRetention(undefined), "staging")).toEqual([
      violation(retention, "database-instance", `backupRetentionPeriod is not set; staging keeps automated backups (the PITR window) at least ${MIN_BACKUP_RETENTION_DAYS.staging} days.`),
    ]);
    expect(await run(retention, withRetention(0), "staging")).toEqual([
      violation(retention, "database-instance", `backupRetentionPeriod is 0; staging keeps automated backups (the PITR window) at least ${MIN_BACKUP_RETENTION_DAYS.staging} days.`),
    ]);
  });
  it("takes a stricter minimum from the pack's config", async () => {
    expect(await run(retention, withRetention(14), "production", { [retention.name]: { minimumDays: 30 } })).toEqual([
      violation(retention, "database-instance", "backupRetentionPeriod is 14; production keeps automated backups (the PITR window) at least 30 days."),
    ]);
  });
});
