import { randomBytes } from "node:crypto";
import {
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
  waitUntilDBInstanceAvailable,
  waitUntilDBInstanceDeleted,
  type DBInstance,
  type Tag,
} from "@aws-sdk/client-rds";
import { DRILL_SOURCE_TAG, DRILL_TAG } from "./names";
import { awsClientConfig, classifyAwsError, type AwsTarget } from "./aws";
import type { ValidationTarget } from "./validation";
import { NoRestorePointError, type RestoreBackend, type RestoreMode, type RestorePoint, type RestoredDatabase } from "./types";

/**
 * The rds backend: "Restore latest snapshot into temporary DB" (RUNBOOK.md, Backup and restore
 * drill, step 4) with the AWS SDK v3. The temporary instance goes into the source's subnet group
 * and security groups, never publicly accessible, and is deleted without a final snapshot.
 *
 * Credentials: the restored instance carries the master password the source had when the snapshot
 * was taken, which RDS-managed secrets rotate away from. The drill therefore sets a fresh one-time
 * master password on the temporary instance (ModifyDBInstance), hands it to the validation function
 * in the Invoke payload only, and never reads the source's secret.
 *
 * Crash safety: the temporary instance's name is deterministic per source and window, and carries
 * the tags `runbook-drill=true` and `runbook-drill-source=<source>`; `sweep` deletes every instance
 * with both tags, so a run killed mid-drill is cleaned up by the next create or delete.
 */

export interface RdsBackendOptions {
  /** Region and credentials: the stack's AWS provider settings. */
  aws: AwsTarget;
  /** The source DB instance identifier; only ever described, never modified. */
  sourceIdentifier: string;
  /** The source's DB subnet group; the temporary instance is placed in it. */
  subnetGroupName: string;
  /** The source's VPC security groups (they admit the validation function, as they admit the application). */
  securityGroupIds: string[];
  /** The database to connect to on the restored instance. */
  databaseName: string;
  /** Instance class of the temporary instance. @default the source's class */
  instanceClass?: string;
  /** Tags on the temporary instance, besides `runbook-drill=true`. */
  tags?: Record<string, string>;
  /** Limit for the restore to become available. @default 3600000 */
  availableTimeoutMs?: number;
  /** Limit for the temporary instance's deletion to finish. @default 1800000 */
  deleteTimeoutMs?: number;
  /** Waiter polling bounds in seconds (tests shorten them). @default { min: 15, max: 60 } */
  pollSeconds?: { min: number; max: number };
  /** An RDS client (tests pass a mocked one). */
  client?: RDSClient;
}

function isNotFound(error: unknown): boolean {
  return (error as { name?: string }).name === "DBInstanceNotFoundFault" || (error as { name?: string }).name === "DBInstanceNotFound";
}

/** Turns the waiter's JSON error into a readable sentence. */
function waiterMessage(error: unknown, what: string, timeoutMs: number): string {
  const e = error as { name?: string; message?: string };
  if (e.name === "TimeoutError") return `${what} did not finish within ${Math.round(timeoutMs / 1000)} s`;
  let detail = e.message ?? String(error);
  try {
    const parsed = JSON.parse(detail) as { state?: string; reason?: { DBInstances?: DBInstance[] } };
    const status = parsed.reason?.DBInstances?.[0]?.DBInstanceStatus;
    detail = status ? `the instance reached status "${status}"` : `waiter state ${parsed.state}`;
  } catch {
    // Not the waiter's JSON: keep the message as it is.
  }
  return `${what} failed: ${detail}`;
}

export function rdsBackend(options: RdsBackendOptions): RestoreBackend {
  const client = options.client ?? new RDSClient(awsClientConfig(options.aws));
  const availableTimeoutMs = options.availableTimeoutMs ?? 3_600_000;
  const deleteTimeoutMs = options.deleteTimeoutMs ?? 1_800_000;
  const poll = options.pollSeconds ?? { min: 15, max: 60 };
  const passwords = new Map<string, string>();
  const tags: Tag[] = [
    ...Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    { Key: DRILL_TAG, Value: "true" },
    { Key: DRILL_SOURCE_TAG, Value: options.sourceIdentifier },
  ];
  // Every call goes through here: an AWS that cannot be reached is the operation's failure.
  const send = ((command: Parameters<RDSClient["send"]>[0]) =>
    Promise.resolve()
      .then(() => client.send(command))
      .catch((error: unknown) => classifyAwsError(command.constructor.name.replace(/Command$/, ""), error))) as RDSClient["send"];
  const guard = (identifier: string) => {
    if (identifier === options.sourceIdentifier) throw new Error(`refusing to touch "${identifier}": it is the drill's source`);
    return identifier;
  };
  const describe = async (identifier: string): Promise<DBInstance> => {
    const out = await send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }));
    const instance = out.DBInstances?.[0];
    if (!instance) throw new Error(`DescribeDBInstances returned no instance "${identifier}"`);
    return instance;
  };

  return {
    kind: "rds",
    sourceId: options.sourceIdentifier,
    async findLatest(mode: RestoreMode): Promise<RestorePoint> {
      if (mode === "pitr") {
        const source = await describe(options.sourceIdentifier);
        if (!source.LatestRestorableTime) {
          throw new NoRestorePointError(
            `"${options.sourceIdentifier}" has no latest restorable time: PITR needs automated backups (backup retention > 0); check database.backupRetentionDays`,
          );
        }
        const at = source.LatestRestorableTime.toISOString();
        return { mode, id: `pitr:${options.sourceIdentifier}@${at}`, capturedAt: at };
      }
      let latest: { id: string; at: Date } | undefined;
      let marker: string | undefined;
      do {
        const page = await send(
          new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: options.sourceIdentifier, SnapshotType: "automated", Marker: marker }),
        );
        for (const s of page.DBSnapshots ?? []) {
          if (s.Status === "available" && s.DBSnapshotIdentifier && s.SnapshotCreateTime && (!latest || s.SnapshotCreateTime > latest.at)) {
            latest = { id: s.DBSnapshotIdentifier, at: s.SnapshotCreateTime };
          }
        }
        marker = page.Marker;
      } while (marker);
      if (!latest) {
        throw new NoRestorePointError(
          `no available automated snapshot of "${options.sourceIdentifier}"; automated backups must be on (database.backupRetentionDays) and the first daily snapshot taken`,
        );
      }
      return { mode, id: latest.id, capturedAt: latest.at.toISOString() };
    },

    async restore(point, identifier): Promise<RestoredDatabase> {
      const target = guard(identifier);
      const common = {
        DBSubnetGroupName: options.subnetGroupName,
        VpcSecurityGroupIds: options.securityGroupIds,
        PubliclyAccessible: false,
        MultiAZ: false,
        DeletionProtection: false,
        AutoMinorVersionUpgrade: false,
        CopyTagsToSnapshot: false,
        Tags: tags,
        ...(options.instanceClass ? { DBInstanceClass: options.instanceClass } : {}),
      };
      if (point.mode === "pitr") {
        await send(
          new RestoreDBInstanceToPointInTimeCommand({
            SourceDBInstanceIdentifier: options.sourceIdentifier,
            TargetDBInstanceIdentifier: target,
            RestoreTime: new Date(point.capturedAt),
            ...common,
          }),
        );
      } else {
        await send(new RestoreDBInstanceFromDBSnapshotCommand({ DBInstanceIdentifier: target, DBSnapshotIdentifier: point.id, ...common }));
      }
      return { identifier: target };
    },

    async waitAvailable(db): Promise<void> {
      const wait = async (what: string) => {
        try {
          await waitUntilDBInstanceAvailable(
            { client, maxWaitTime: availableTimeoutMs / 1000, minDelay: poll.min, maxDelay: poll.max },
            { DBInstanceIdentifier: db.identifier },
          );
        } catch (error) {
          throw new Error(waiterMessage(error, `${what} of "${db.identifier}"`, availableTimeoutMs));
        }
      };
      await wait("the restore");
      const restored = await describe(db.identifier);
      const password = randomBytes(24).toString("base64url");
      await send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: guard(db.identifier),
          MasterUserPassword: password,
          // An instance restored with an RDS-managed secret must give it up before taking a password.
          ...(restored.MasterUserSecret ? { ManageMasterUserPassword: false } : {}),
          ApplyImmediately: true,
        }),
      );
      passwords.set(db.identifier, password);
      await wait("the password reset");
    },

    async target(db): Promise<ValidationTarget> {
      const instance = await describe(db.identifier);
      const password = passwords.get(db.identifier);
      if (!instance.Endpoint?.Address || !password) throw new Error(`"${db.identifier}" is not available yet (no endpoint or password)`);
      return {
        host: instance.Endpoint.Address,
        port: instance.Endpoint.Port ?? 5432,
        user: instance.MasterUsername ?? "postgres",
        password,
        database: options.databaseName,
        tls: "rds",
      };
    },

    async sweep(): Promise<string[]> {
      const leftovers: string[] = [];
      let marker: string | undefined;
      do {
        // DescribeDBInstances filters by identifier or engine, not by tag: the tags come with each instance.
        const page = await send(new DescribeDBInstancesCommand({ Marker: marker }));
        for (const instance of page.DBInstances ?? []) {
          const tagged = (key: string, value: string) => instance.TagList?.some((t) => t.Key === key && t.Value === value) ?? false;
          const id = instance.DBInstanceIdentifier;
          if (id && id !== options.sourceIdentifier && tagged(DRILL_TAG, "true") && tagged(DRILL_SOURCE_TAG, options.sourceIdentifier)) leftovers.push(id);
        }
        marker = page.Marker;
      } while (marker);
      for (const id of leftovers) await this.destroy(id);
      return leftovers;
    },

    async destroy(identifier): Promise<void> {
      const target = guard(identifier);
      const remove = () => send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: target, SkipFinalSnapshot: true, DeleteAutomatedBackups: true }));
      try {
        try {
          await remove();
        } catch (error) {
          // An instance still being created (or modified) cannot be deleted yet: wait for it, then delete.
          if ((error as { name?: string }).name !== "InvalidDBInstanceStateFault") throw error;
          await waitUntilDBInstanceAvailable({ client, maxWaitTime: availableTimeoutMs / 1000, minDelay: poll.min, maxDelay: poll.max }, { DBInstanceIdentifier: target });
          await remove();
        }
      } catch (error) {
        if (isNotFound(error)) return;
        throw new Error(`could not delete the temporary instance "${target}": ${(error as Error).message}; delete it by hand (aws rds delete-db-instance --db-instance-identifier ${target} --skip-final-snapshot --delete-automated-backups)`);
      }
      try {
        await waitUntilDBInstanceDeleted({ client, maxWaitTime: deleteTimeoutMs / 1000, minDelay: poll.min, maxDelay: poll.max }, { DBInstanceIdentifier: target });
      } catch (error) {
        throw new Error(waiterMessage(error, `deleting "${target}"`, deleteTimeoutMs));
      }
    },
  };
}
