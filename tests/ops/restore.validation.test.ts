import { BackupClient, DescribeRestoreJobCommand, PutRestoreValidationResultCommand } from "@aws-sdk/client-backup";
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { DescribeDBInstancesCommand, RDSClient } from "@aws-sdk/client-rds";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { handler, validateRestoreTestJob, type RestoreJobStateChange, type RestoreTestingEnvironment } from "../../ops/restore/lambda";
import { localTarget, validate, type ValidationRequest } from "../../ops/restore";
import { SAMPLE_DOMAIN_CHECKS, SAMPLE_TABLES, seedSampleDatabase } from "../../ops/restore/sample";
import { query, startPostgres, type PostgresServer } from "../support/postgres";

/**
 * The validation function's handler (what runs inside the VPC) against a real PostgreSQL: every
 * outcome is a result, never an exception, and no result carries the password it was given.
 */

let pg: PostgresServer;

const request = (database: string, overrides: Partial<ValidationRequest> = {}): ValidationRequest => ({
  kind: "validate",
  mode: "restored",
  target: localTarget(pg.url(database)),
  checks: { expectedTables: [...SAMPLE_TABLES], domainChecks: SAMPLE_DOMAIN_CHECKS },
  readinessTimeoutMs: 1_000,
  ...overrides,
});

beforeAll(async () => {
  pg = await startPostgres();
  await seedSampleDatabase(await pg.createDatabase("restored"), 100);
  await query(pg.url(), "CREATE DATABASE broken TEMPLATE restored");
  await query(pg.url("broken"), "SELECT setval('orders_id_seq', 2)");
  await pg.createDatabase("fresh");
  await seedSampleDatabase(await pg.createDatabase("live"), 20);
}, 120_000);

afterAll(async () => {
  await pg?.stop();
});

describe("the validation handler, against a real PostgreSQL", () => {
  it("passes a healthy restore: readiness, amcheck installed, integrity", async () => {
    const result = await handler(request("restored"));
    expect(result).toMatchObject({ passed: true, nothingToDrill: false, rowCounts: { users: 100, orders: 300 } });
    const r = result as Awaited<ReturnType<typeof validate>>;
    expect(r.summary).toMatch(/^\d+ checks, 0 failed, 0 warnings$/);
    expect(r.results.slice(0, 3).map((x) => [x.check, x.status])).toEqual([
      ["readiness: connect", "pass"],
      ["readiness: SELECT 1", "pass"],
      ["readiness: migrations applied", "pass"],
    ]);
    expect(r.notes).toContain("amcheck enabled in the temporary database: index structure verified with bt_index_check");
    expect(r.results.find((x) => x.check === "amcheck")?.status).toBe("pass");
  });

  it("violations: passed false with the failing check named", async () => {
    const result = await validate(request("broken"));
    expect(result.passed).toBe(false);
    expect(result.results.filter((r) => r.status === "fail").map((r) => r.check)).toEqual(["sequence: public.orders_id_seq >= max(orders.id)"]);
  });

  it("an unreachable database: passed false after retrying within the readiness limit", async () => {
    const result = await validate({ ...request("restored"), target: { ...localTarget(pg.url("restored")), port: 1 } });
    expect(result).toMatchObject({ passed: false, nothingToDrill: false });
    expect(result.summary).toMatch(/^readiness: cannot connect to 127\.0\.0\.1:1\/restored after \d+ attempts: connect ECONNREFUSED 127\.0\.0\.1:1$/);
  });

  it("a wrong password: passed false at once (waiting will not fix it), the password never echoed", async () => {
    const result = await validate({ ...request("restored"), target: { ...localTarget(pg.url("restored")), password: "not-the-password" } });
    expect(result.summary).toBe(`readiness: cannot connect to 127.0.0.1:${pg.port}/restored after 1 attempt: password authentication failed for user "postgres"`);
    expect(JSON.stringify(result)).not.toContain("not-the-password");
    expect(JSON.stringify(result)).not.toContain(pg.password);
  });

  it("a check slower than the time budget: passed false, the timeout named, nothing left running", async () => {
    const result = await validate({
      ...request("restored"),
      checks: { expectedTables: ["users"], domainChecks: [{ name: "slow", sql: "SELECT 1 AS id FROM pg_sleep(60)" }] },
      // Long enough that readiness and amcheck finish first on a loaded machine; the check's own
      // statement timeout (the budget less its margin) then stops the 60 s sleep.
      budgetMs: 8_000,
    });
    expect(result.passed).toBe(false);
    expect(result.results.find((r) => r.check === "domain: slow")).toMatchObject({ status: "fail", detail: expect.stringContaining("canceling statement due to statement timeout") });
    const running = await query<{ n: string }>(pg.url(), "SELECT count(*)::text AS n FROM pg_stat_activity WHERE query LIKE '%FROM pg_sleep(60)%' AND query NOT LIKE '%pg_stat_activity%' AND pid <> pg_backend_pid()");
    expect(running).toEqual([{ n: "0" }]);
  });

  it('a database never migrated (a new stack): a passing drill with the note "nothing to drill yet"', async () => {
    const result = await validate(request("fresh"));
    expect(result).toMatchObject({ passed: true, nothingToDrill: true, summary: "nothing to drill yet" });
    expect(result.notes).toEqual(["nothing to drill yet: _prisma_migrations records no applied migration (a new stack); integrity checks skipped"]);
  });

  it("live mode (IntegrityCheck) never writes: no amcheck installed, no readiness step", async () => {
    const result = await validate({ ...request("live"), mode: "live" });
    expect(result.passed).toBe(true);
    expect(result.results.some((r) => r.check.startsWith("readiness"))).toBe(false);
    expect(await query(pg.url("live"), "SELECT extname FROM pg_extension WHERE extname = 'amcheck'")).toEqual([]);
  });

  it("refuses anything that is neither a request nor a restore job event", async () => {
    await expect(handler({ hello: "world" })).rejects.toThrow('the validation function takes a ValidationRequest ({ kind: "validate", mode, target, checks }) or an AWS Backup "Restore Job State Change" event');
  });
});

describe("AWS Backup restore testing: a completed restore job", () => {
  const backup = mockClient(BackupClient);
  const rds = mockClient(RDSClient);
  const s3 = mockClient(S3Client);
  const cloudwatch = mockClient(CloudWatchClient);
  const secrets = mockClient(SecretsManagerClient);
  const PLAN = "arn:aws:backup:eu-west-1:123456789012:restore-testing-plan:runbook_staging_restore_test-abc";
  const env: RestoreTestingEnvironment = {
    RESTORE_TESTING_PLAN_ARN: PLAN,
    RESTORE_TESTING_SOURCE: "runbook-staging-postgres",
    RESTORE_TESTING_DATABASE: "runbook",
    RESTORE_TESTING_SECRET_ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1",
    RESTORE_TESTING_CHECKS: JSON.stringify({ expectedTables: ["users"] }),
    DRILL_RECORDS_BUCKET: "runbook-staging-drill-records-x",
  };
  const event: RestoreJobStateChange = { source: "aws.backup", "detail-type": "Restore Job State Change", detail: { restoreJobId: "job-1", status: "COMPLETED", resourceType: "RDS" } };
  const names = (mock: { calls(): { args: unknown[] }[] }) => mock.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);

  afterEach(() => {
    for (const m of [backup, rds, s3, cloudwatch, secrets]) m.reset();
  });

  it("an unreachable restored instance: the record and metrics are published and FAILED is reported", async () => {
    backup.on(DescribeRestoreJobCommand).resolves({
      RestoreJobId: "job-1",
      Status: "COMPLETED",
      CreatedResourceArn: "arn:aws:rds:eu-west-1:123456789012:db:awsbackup-restore-test-1",
      CreatedBy: { RestoreTestingPlanArn: PLAN },
      CreationDate: new Date("2025-01-13T04:00:00Z"),
      RecoveryPointArn: "arn:aws:rds:eu-west-1:123456789012:snapshot:awsbackup:job-x",
    });
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceIdentifier: "awsbackup-restore-test-1", MasterUsername: "runbook_admin", Endpoint: { Address: "127.0.0.1", Port: 1 } }] });
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: "runbook_admin", password: "from-the-secret" }) });
    const outcome = await validateRestoreTestJob(event, env, 500);
    expect("record" in outcome && outcome.record).toMatchObject({ backend: "aws-backup", sourceId: "runbook-staging-postgres", temporaryId: "awsbackup-restore-test-1", passed: false, rtoSeconds: undefined });
    expect(names(backup)).toEqual(["DescribeRestoreJobCommand", "PutRestoreValidationResultCommand"]);
    expect(backup.commandCalls(PutRestoreValidationResultCommand)[0]?.args[0].input).toMatchObject({ RestoreJobId: "job-1", ValidationStatus: "FAILED" });
    expect(rds.commandCalls(DescribeDBInstancesCommand)[0]?.args[0].input).toEqual({ DBInstanceIdentifier: "awsbackup-restore-test-1" });
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({ Bucket: env.DRILL_RECORDS_BUCKET, Key: expect.stringMatching(/^drills\/runbook-staging-postgres\/\d{4}-W\d{2}\//) });
    expect(String(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Body)).not.toContain("from-the-secret");
    expect(cloudwatch.commandCalls(PutMetricDataCommand)[0]?.args[0].input.MetricData?.map((m) => [m.MetricName, m.Value])).toEqual([["RestoreDrillSucceeded", 0]]);
  });

  it("a job of another plan is ignored: nothing published, nothing reported", async () => {
    backup.on(DescribeRestoreJobCommand).resolves({ RestoreJobId: "job-1", Status: "COMPLETED", CreatedBy: { RestoreTestingPlanArn: `${PLAN}-other` } });
    expect(await validateRestoreTestJob(event, env)).toEqual({ ignored: `restore job job-1 is not from ${PLAN}` });
    expect(names(backup)).toEqual(["DescribeRestoreJobCommand"]);
    expect(s3.calls()).toEqual([]);
  });
});
