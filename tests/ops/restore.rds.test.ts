import {
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
} from "@aws-sdk/client-rds";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  DrillError,
  lambdaValidator,
  rdsBackend,
  runDrill,
  sourceHash,
  temporaryIdentifier,
  type RestoreBackend,
  type ValidationRequest,
  type ValidationResult,
} from "../../ops/restore";

const rds = mockClient(RDSClient);
const lambda = mockClient(LambdaClient);
const SOURCE = "runbook-staging-postgres";
const TEMP = temporaryIdentifier("runbook-staging-drill", "2025-W03", SOURCE);
const LEFTOVER = temporaryIdentifier("runbook-staging-drill", "2025-W02", SOURCE);
const FUNCTION = "runbook-staging-drill-validation";
const notFound = (id = TEMP) => Object.assign(new Error(`DBInstance ${id} not found.`), { name: "DBInstanceNotFoundFault" });
const drillTags = (source = SOURCE) => [
  { Key: "runbook-drill", Value: "true" },
  { Key: "runbook-drill-source", Value: source },
];

function backend(overrides: { availableTimeoutMs?: number } = {}): RestoreBackend {
  return rdsBackend({
    aws: { region: "eu-west-1" },
    sourceIdentifier: SOURCE,
    subnetGroupName: "runbook-staging-db-subnets",
    securityGroupIds: ["sg-0123456789abcdef0"],
    databaseName: "runbook",
    tags: { stack: "staging" },
    client: new RDSClient({ region: "eu-west-1" }),
    pollSeconds: { min: 0.001, max: 0.002 },
    availableTimeoutMs: overrides.availableTimeoutMs ?? 5_000,
    deleteTimeoutMs: 5_000,
  });
}

/** The calls the mock received, as [command, input] pairs. */
function calls(): [string, Record<string, unknown>][] {
  return rds.calls().map((c) => {
    const command = c.args[0] as unknown as { constructor: { name: string }; input: Record<string, unknown> };
    return [command.constructor.name.replace(/Command$/, ""), command.input];
  });
}

const instance = (status: string, extra: Record<string, unknown> = {}) => ({
  DBInstances: [{ DBInstanceIdentifier: TEMP, DBInstanceStatus: status, MasterUsername: "runbook_admin", Endpoint: { Address: `${TEMP}.abc.eu-west-1.rds.amazonaws.com`, Port: 5432 }, ...extra }],
});

interface FakeAws {
  /** What the temporary instance does once restored. */
  restoreEndsIn: "available" | "failed" | "creating forever";
  /** Where the restored instance listens. */
  endpoint: { Address: string; Port: number };
  /** Instances a crashed run left, besides unrelated ones, listed by DescribeDBInstances without an identifier. */
  leftovers: string[];
}

/**
 * A small stateful RDS: one old and one newest available snapshot; a restored instance that is
 * "creating" for one poll and then reaches `restoreEndsIn`; DeleteDBInstance makes it "deleting",
 * and the next describe finds it gone (as AWS does once deletion finishes).
 */
function fakeAws(options: Partial<FakeAws> = {}): void {
  const { restoreEndsIn = "available", endpoint = { Address: `${TEMP}.abc.eu-west-1.rds.amazonaws.com`, Port: 5432 }, leftovers = [] } = options;
  const left = new Set(leftovers);
  const swept = new Set<string>();
  rds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier?: string }) => {
    if (input.DBInstanceIdentifier && swept.has(input.DBInstanceIdentifier)) throw notFound(input.DBInstanceIdentifier);
    return {
      DBInstances: [
        { DBInstanceIdentifier: SOURCE, TagList: [{ Key: "stack", Value: "staging" }] },
        // Another source's drill and an untagged instance with a drill-like name: never touched.
        { DBInstanceIdentifier: "other-drill-2025w02-ffffff", TagList: drillTags("other-postgres") },
        { DBInstanceIdentifier: "runbook-staging-drill-2025w01-000000", TagList: [] },
        ...[...left].map((id) => ({ DBInstanceIdentifier: id, DBInstanceStatus: "available", TagList: drillTags() })),
      ],
    };
  });
  let state: "absent" | "creating" | "available" | "failed" | "deleting" = "absent";
  let polls = 0;
  let managedSecret = true;
  rds.on(DescribeDBSnapshotsCommand).resolves({
    DBSnapshots: [
      { DBSnapshotIdentifier: "rds:runbook-staging-postgres-2025-01-13-03-05", Status: "available", SnapshotCreateTime: new Date("2025-01-13T03:05:00Z") },
      { DBSnapshotIdentifier: "rds:runbook-staging-postgres-2025-01-15-03-05", Status: "available", SnapshotCreateTime: new Date("2025-01-15T03:05:00Z") },
      { DBSnapshotIdentifier: "rds:runbook-staging-postgres-2025-01-16-03-05", Status: "creating", SnapshotCreateTime: new Date("2025-01-16T03:05:00Z") },
    ],
  });
  const restore = () => {
    state = "creating";
    return {};
  };
  rds.on(RestoreDBInstanceFromDBSnapshotCommand).callsFake(restore);
  rds.on(RestoreDBInstanceToPointInTimeCommand).callsFake(restore);
  rds.on(ModifyDBInstanceCommand).callsFake(() => {
    managedSecret = false;
    return {};
  });
  rds.on(DeleteDBInstanceCommand).callsFake((input: { DBInstanceIdentifier: string }) => {
    if (left.delete(input.DBInstanceIdentifier)) {
      swept.add(input.DBInstanceIdentifier);
      return {};
    }
    if (state === "absent") throw notFound();
    state = "deleting";
    return {};
  });
  rds
    .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: SOURCE })
    .resolves({ DBInstances: [{ DBInstanceIdentifier: SOURCE, LatestRestorableTime: new Date("2025-01-16T09:40:00Z") }] });
  rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: TEMP }).callsFake(() => {
    if (state === "absent") throw notFound();
    if (state === "deleting") {
      state = "absent";
      return instance("deleting");
    }
    if (state === "creating" && ++polls > 1 && restoreEndsIn !== "creating forever") state = restoreEndsIn;
    return instance(state, { Endpoint: endpoint, ...(managedSecret ? { MasterUserSecret: { SecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db" } } : {}) });
  });
}

const passed: ValidationResult = {
  passed: true,
  nothingToDrill: false,
  summary: "12 checks, 0 failed, 0 warnings",
  results: [{ check: "readiness: connect", status: "pass", detail: "connected" }],
  rowCounts: { users: 10 },
  notes: ["amcheck enabled in the temporary database: index structure verified with bt_index_check"],
  durationMs: 1200,
};

/** The validation function answers with `result` (what the handler tests prove it computes for real). */
function fakeFunction(result: ValidationResult | { functionError: string } = passed): void {
  lambda.on(InvokeCommand).callsFake(() =>
    "functionError" in result
      ? { StatusCode: 200, FunctionError: "Unhandled", Payload: new TextEncoder().encode(JSON.stringify({ errorType: "Error", errorMessage: result.functionError })) }
      : { StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(result)) },
  );
}

/** What the function was asked, in order. */
const invocations = () =>
  lambda.calls().map((c) => {
    const input = (c.args[0] as unknown as { input: { FunctionName: string; InvocationType: string; Payload: Uint8Array } }).input;
    return { ...input, Payload: JSON.parse(new TextDecoder().decode(input.Payload)) as ValidationRequest };
  });

function drill(b: RestoreBackend, mode: "snapshot" | "pitr" = "snapshot") {
  return runDrill({
    backend: b,
    mode,
    window: "2025-W03",
    temporaryId: TEMP,
    validator: lambdaValidator(FUNCTION, new LambdaClient({ region: "eu-west-1" })),
    checks: { expectedTables: ["users"] },
  });
}

beforeEach(() => {
  rds.reset();
  lambda.reset();
});
afterEach(() => {
  rds.reset();
  lambda.reset();
});

describe("temporaryIdentifier", () => {
  it("is deterministic per source and window, a legal RDS identifier of at most 63 characters", () => {
    expect(TEMP).toBe(`runbook-staging-drill-2025w03-${sourceHash(SOURCE)}`);
    expect(temporaryIdentifier("runbook-staging-drill", "2025-W03", SOURCE)).toBe(TEMP);
    expect(temporaryIdentifier("runbook-staging-drill", "2025-W03", "other-postgres")).not.toBe(TEMP);
    const long = temporaryIdentifier(`x${"-very-long".repeat(10)}`, "2025-W03", SOURCE);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toBe(`x-very-long-very-long-very-long-very-long-very-l-2025w03-${sourceHash(SOURCE)}`);
    expect(temporaryIdentifier("9-prefix", "2025-W03", SOURCE)).toBe(`prefix-2025w03-${sourceHash(SOURCE)}`);
  });
});

describe("rds drill: the exact call sequence", () => {
  it("sweeps, restores into the source's network, waits, resets the password, has the function validate, deletes", async () => {
    fakeAws({ leftovers: [LEFTOVER] });
    fakeFunction();
    const record = await drill(backend());
    expect(record).toMatchObject({ passed: true, cleanedUp: true, temporaryId: TEMP, snapshotId: "rds:runbook-staging-postgres-2025-01-15-03-05", integritySummary: "12 checks, 0 failed, 0 warnings" });
    expect(record.rtoSeconds).toBeTypeOf("number");
    expect(record.notes[0]).toBe(`deleted 1 temporary database an earlier run left behind: ${LEFTOVER}`);

    const sequence = calls();
    expect(sequence.map(([name, input]) => `${name}${input.DBInstanceIdentifier ? ` ${String(input.DBInstanceIdentifier)}` : ""}`)).toEqual([
      // the sweep: list, delete the leftover tagged as this source's drill, wait until it is gone
      "DescribeDBInstances",
      `DeleteDBInstance ${LEFTOVER}`,
      `DescribeDBInstances ${LEFTOVER}`,
      `DescribeDBSnapshots ${SOURCE}`,
      `RestoreDBInstanceFromDBSnapshot ${TEMP}`,
      `DescribeDBInstances ${TEMP}`,
      `DescribeDBInstances ${TEMP}`,
      `DescribeDBInstances ${TEMP}`,
      `ModifyDBInstance ${TEMP}`,
      `DescribeDBInstances ${TEMP}`,
      `DescribeDBInstances ${TEMP}`,
      `DeleteDBInstance ${TEMP}`,
      `DescribeDBInstances ${TEMP}`,
      `DescribeDBInstances ${TEMP}`,
    ]);
    expect(sequence[4]?.[1]).toEqual({
      DBInstanceIdentifier: TEMP,
      DBSnapshotIdentifier: "rds:runbook-staging-postgres-2025-01-15-03-05",
      DBSubnetGroupName: "runbook-staging-db-subnets",
      VpcSecurityGroupIds: ["sg-0123456789abcdef0"],
      PubliclyAccessible: false,
      MultiAZ: false,
      DeletionProtection: false,
      AutoMinorVersionUpgrade: false,
      CopyTagsToSnapshot: false,
      Tags: [{ Key: "stack", Value: "staging" }, ...drillTags()],
    });
    const modify = sequence[8]?.[1] ?? {};
    expect(Object.keys(modify).sort()).toEqual(["ApplyImmediately", "DBInstanceIdentifier", "ManageMasterUserPassword", "MasterUserPassword"]);
    expect(sequence[11]?.[1]).toEqual({ DBInstanceIdentifier: TEMP, SkipFinalSnapshot: true, DeleteAutomatedBackups: true });
    // Nothing but Describe ever names the source.
    for (const [name, input] of sequence) {
      if (Object.values(input).includes(SOURCE)) expect(name).toMatch(/^Describe/);
    }

    // One synchronous invoke; the one-time password travels in its payload only, and nowhere in the record.
    const [invoke, ...more] = invocations();
    expect(more).toEqual([]);
    expect(invoke).toMatchObject({ FunctionName: FUNCTION, InvocationType: "RequestResponse" });
    expect(invoke?.Payload).toEqual({
      kind: "validate",
      mode: "restored",
      target: { host: `${TEMP}.abc.eu-west-1.rds.amazonaws.com`, port: 5432, user: "runbook_admin", password: modify.MasterUserPassword, database: "runbook", tls: "rds" },
      checks: { expectedTables: ["users"] },
    });
    expect(JSON.stringify(record)).not.toContain(String(modify.MasterUserPassword));
  });

  it("pitr mode: the source's latest restorable time, RestoreDBInstanceToPointInTime at exactly that time", async () => {
    fakeAws();
    const b = backend();
    const point = await b.findLatest("pitr");
    expect(point).toEqual({ mode: "pitr", id: `pitr:${SOURCE}@2025-01-16T09:40:00.000Z`, capturedAt: "2025-01-16T09:40:00.000Z" });
    await b.restore(point, TEMP);
    const [describe, restore] = calls();
    expect(describe).toEqual(["DescribeDBInstances", { DBInstanceIdentifier: SOURCE }]);
    expect(restore?.[0]).toBe("RestoreDBInstanceToPointInTime");
    expect(restore?.[1]).toMatchObject({
      SourceDBInstanceIdentifier: SOURCE,
      TargetDBInstanceIdentifier: TEMP,
      RestoreTime: new Date("2025-01-16T09:40:00Z"),
      DBSubnetGroupName: "runbook-staging-db-subnets",
      VpcSecurityGroupIds: ["sg-0123456789abcdef0"],
      PubliclyAccessible: false,
    });
  });

  it("pages through DescribeDBSnapshots", async () => {
    rds
      .on(DescribeDBSnapshotsCommand)
      .resolvesOnce({ DBSnapshots: [{ DBSnapshotIdentifier: "old", Status: "available", SnapshotCreateTime: new Date("2025-01-01") }], Marker: "m1" })
      .resolvesOnce({ DBSnapshots: [{ DBSnapshotIdentifier: "new", Status: "available", SnapshotCreateTime: new Date("2025-01-02") }] });
    expect((await backend().findLatest("snapshot")).id).toBe("new");
    expect(calls().map(([, input]) => input.Marker)).toEqual([undefined, "m1"]);
  });

  it("refuses to delete or modify the source", async () => {
    await expect(backend().destroy(SOURCE)).rejects.toThrow(`refusing to touch "${SOURCE}": it is the drill's source`);
    await expect(backend().restore({ mode: "snapshot", id: "s", capturedAt: "" }, SOURCE)).rejects.toThrow("refusing to touch");
    expect(calls()).toEqual([]);
  });
});

describe("rds drill: a failed drill is a result, with cleanup at every failure point", () => {
  it("no snapshot: passed false, nothing restored, nothing to delete", async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [{ DBSnapshotIdentifier: "x", Status: "creating", SnapshotCreateTime: new Date() }] });
    const record = await drill(backend());
    expect(record).toMatchObject({
      passed: false,
      rtoSeconds: undefined,
      cleanedUp: true,
      integritySummary: `drill failed: no available automated snapshot of "${SOURCE}"; automated backups must be on (database.backupRetentionDays) and the first daily snapshot taken`,
    });
    expect(calls().map(([name]) => name)).toEqual(["DescribeDBInstances", "DescribeDBSnapshots"]);
    expect(invocations()).toEqual([]);
  });

  const failurePoints: { name: string; arrange(): void; timeoutMs?: number; message: string }[] = [
    {
      name: "the restore request fails",
      arrange: () => {
        fakeAws();
        rds.on(RestoreDBInstanceFromDBSnapshotCommand).rejects(Object.assign(new Error("Insufficient DB instance capacity"), { name: "InsufficientDBInstanceCapacityFault", $metadata: { httpStatusCode: 400 } }));
      },
      message: "drill failed: Insufficient DB instance capacity",
    },
    {
      name: "the restore ends in status failed",
      arrange: () => fakeAws({ restoreEndsIn: "failed" }),
      message: `drill failed: the restore of "${TEMP}" failed: the instance reached status "failed"`,
    },
    {
      name: "the restore times out",
      arrange: () => fakeAws({ restoreEndsIn: "creating forever" }),
      timeoutMs: 50,
      message: `drill failed: the restore of "${TEMP}" did not finish within 0 s`,
    },
    {
      name: "the password reset is refused",
      arrange: () => {
        fakeAws();
        rds.on(ModifyDBInstanceCommand).rejects(Object.assign(new Error("not authorized to ModifyDBInstance"), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } }));
      },
      message: "drill failed: not authorized to ModifyDBInstance",
    },
    {
      name: "the function crashes or times out",
      arrange: () => {
        fakeAws();
        fakeFunction({ functionError: "Task timed out after 900.00 seconds" });
      },
      message: `the validation function ${FUNCTION} failed: Error: Task timed out after 900.00 seconds`,
    },
    {
      name: "the checks fail",
      arrange: () => {
        fakeAws();
        fakeFunction({ ...passed, passed: false, summary: "12 checks, 1 failed, 0 warnings", results: [{ check: "sequence: users_id_seq", status: "fail", detail: "behind" }] });
      },
      message: "12 checks, 1 failed, 0 warnings",
    },
  ];

  it.each(failurePoints)("$name: passed false, no RTO, DeleteDBInstance still called", async ({ arrange, timeoutMs, message }) => {
    fakeFunction();
    arrange();
    const record = await drill(backend({ availableTimeoutMs: timeoutMs }));
    expect(record).toMatchObject({ passed: false, rtoSeconds: undefined, cleanedUp: true, temporaryId: TEMP, integritySummary: message });
    expect(record.notes).toContain(`temporary database ${TEMP} deleted`);
    const deletes = calls().filter(([name]) => name === "DeleteDBInstance");
    expect(deletes).toEqual([["DeleteDBInstance", { DBInstanceIdentifier: TEMP, SkipFinalSnapshot: true, DeleteAutomatedBackups: true }]]);
  });

  it("AWS that cannot be reached fails the operation (a DrillError), after deleting what was restored", async () => {
    fakeAws();
    lambda.on(InvokeCommand).rejects(Object.assign(new Error("connect ETIMEDOUT lambda.eu-west-1.amazonaws.com"), { code: "ETIMEDOUT" }));
    const error = (await drill(backend()).catch((e: unknown) => e)) as DrillError;
    expect(error).toBeInstanceOf(DrillError);
    expect(error.message).toBe(
      `restore drill of ${SOURCE} could not run: cannot reach AWS for Invoke ${FUNCTION}: connect ETIMEDOUT lambda.eu-west-1.amazonaws.com; temporary database ${TEMP} deleted`,
    );
    expect(calls().filter(([name]) => name === "DeleteDBInstance")).toHaveLength(1);
  });

  it("credentials that do not work fail the operation before anything is restored", async () => {
    rds.on(DescribeDBInstancesCommand).rejects(Object.assign(new Error("The security token included in the request is expired"), { name: "ExpiredToken", $metadata: { httpStatusCode: 403 } }));
    await expect(drill(backend())).rejects.toThrow(`restore drill of ${SOURCE}: sweeping an earlier run's temporary database failed: cannot reach AWS for DescribeDBInstances`);
    expect(calls().map(([name]) => name)).toEqual(["DescribeDBInstances"]);
  });

  it("a temporary instance that cannot be deleted fails the operation, the record says so", async () => {
    fakeAws();
    fakeFunction();
    rds.on(DeleteDBInstanceCommand).rejects(Object.assign(new Error("throttled"), { name: "Throttling", $metadata: { httpStatusCode: 400 } }));
    const error = (await drill(backend()).catch((e: unknown) => e)) as DrillError;
    expect(error).toBeInstanceOf(DrillError);
    expect(error.message).toMatch(new RegExp(`^restore drill of ${SOURCE}: ${TEMP} may still exist: could not delete the temporary instance`));
    expect(error.record).toMatchObject({ passed: false, cleanedUp: false });
  });

  it("an instance still being created is waited for, then deleted", async () => {
    rds.on(DeleteDBInstanceCommand).rejectsOnce(Object.assign(new Error("is not in available state"), { name: "InvalidDBInstanceStateFault" })).resolves({});
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: TEMP }).resolvesOnce(instance("available")).rejects(notFound());
    await backend().destroy(TEMP);
    expect(calls().map(([name]) => name)).toEqual(["DeleteDBInstance", "DescribeDBInstances", "DeleteDBInstance", "DescribeDBInstances"]);
  });

  it("a delete that fails is reported with the command to run by hand", async () => {
    rds.on(DeleteDBInstanceCommand).rejects(Object.assign(new Error("throttled"), { name: "Throttling" }));
    await expect(backend().destroy(TEMP)).rejects.toThrow(
      `could not delete the temporary instance "${TEMP}": throttled; delete it by hand (aws rds delete-db-instance --db-instance-identifier ${TEMP} --skip-final-snapshot --delete-automated-backups)`,
    );
  });

  it("an instance already gone is not an error", async () => {
    rds.on(DeleteDBInstanceCommand).rejects(notFound());
    await expect(backend().destroy(TEMP)).resolves.toBeUndefined();
  });
});
