import type { CheckResult } from "../lib/report";
import type { ValidationTarget } from "./validation";

/** "snapshot": the latest automated snapshot; "pitr": the latest restorable time. */
export type RestoreMode = "snapshot" | "pitr";

/** What a drill restores from. */
export interface RestorePoint {
  mode: RestoreMode;
  /** The snapshot id, or `pitr:<source>@<time>` for a point-in-time restore. */
  id: string;
  /** When the data was captured (snapshot creation or the restore time). */
  capturedAt: string;
}

/** The temporary database a drill restored into. */
export interface RestoredDatabase {
  /** RDS instance identifier or local database name; what `destroy` deletes. */
  identifier: string;
}

/**
 * Where snapshots come from and where temporary databases go. Implementations never modify the
 * source; `destroy` is idempotent (a database that is already gone is not an error).
 */
export interface RestoreBackend {
  readonly kind: "rds" | "local";
  /** The source's identity, for records and metric dimensions. */
  readonly sourceId: string;
  findLatest(mode: RestoreMode): Promise<RestorePoint>;
  /** Requests the restore. From the moment it is called the drill owes a `destroy`, even if it throws. */
  restore(point: RestorePoint, identifier: string): Promise<RestoredDatabase>;
  /** Resolves when the database accepts connections, or throws after the backend's timeout. */
  waitAvailable(db: RestoredDatabase): Promise<void>;
  /** Where the validation reaches the restored database, with its one-time credentials (secret). */
  target(db: RestoredDatabase): Promise<ValidationTarget>;
  destroy(identifier: string): Promise<void>;
  /**
   * Deletes every temporary database a drill of this source left behind (a crashed or killed run),
   * found by the drill's tags (rds) or its deterministic names (local); returns their names.
   */
  sweep(): Promise<string[]>;
}

/** A drill's outcome: published as JSON and as the RestoreDrill resource's outputs. */
export interface DrillRecord {
  /** "aws-backup": AWS Backup restore testing restored it, the validation function checked it. */
  backend: "rds" | "local" | "aws-backup";
  sourceId: string;
  /** The ISO week the drill belongs to, e.g. "2025-W03". */
  window: string;
  restoreMode: RestoreMode;
  snapshotId: string;
  /** When the restored data was captured. */
  capturedAt: string;
  temporaryId: string;
  startedAt: string;
  finishedAt: string;
  /** Restore requested until the checks passed; undefined when the drill did not get that far. */
  rtoSeconds: number | undefined;
  passed: boolean;
  /** "36 checks, 0 failed, 0 warnings" or the error that stopped the drill. */
  integritySummary: string;
  /** Timeline and findings, for the runbook's "data integrity notes". */
  notes: string[];
  rowCounts: Record<string, number>;
  results: CheckResult[];
  /** Whether the temporary database was deleted (false only when deletion itself failed). */
  cleanedUp: boolean;
}

export class DrillError extends Error {
  constructor(
    message: string,
    /** The record of the failed drill (published before the error is raised). */
    readonly record?: DrillRecord,
  ) {
    super(message);
    this.name = "DrillError";
  }
}

/**
 * The AWS APIs could not be reached (network, credentials, throttling past the SDK's retries): the
 * drill could not run at all, which fails the operation rather than recording a failed drill.
 */
export class AwsUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AwsUnreachableError";
  }
}

/** No snapshot or restorable time exists: nothing was restored. */
export class NoRestorePointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NoRestorePointError";
  }
}
