import { awsClientConfig, type AwsTarget } from "./aws";
import { runDrill, type DrillStep } from "./drill";
import { lambdaValidator, type Validator } from "./invoke";
import { localBackend, localTarget } from "./local";
import { temporaryIdentifier } from "./names";
import { publishRecord, type PublishTarget } from "./publish";
import { rdsBackend } from "./rds";
import type { DrillRecord, RestoreBackend, RestoreMode } from "./types";
import { validate, type ValidationChecks, type ValidationRequest, type ValidationResult } from "./validation";
import { ISO_WEEK } from "./window";

export { runDrill, type DrillOptions, type DrillStep } from "./drill";
export { localBackend, localTarget, takeLocalSnapshot, dropLocalSnapshots } from "./local";
export { rdsBackend } from "./rds";
export { temporaryIdentifier, sourceHash } from "./names";
export { lambdaValidator, type Validator } from "./invoke";
export { validate, type ValidationChecks, type ValidationRequest, type ValidationResult, type ValidationTarget } from "./validation";
export { awsClientConfig, type AwsTarget } from "./aws";
/** recordExists, awsClientConfig and sweepTemporaries are the RestoreDrill provider's read and delete, loaded through loadOps at deploy time. */
export { recordExists } from "./publish";
export { isoWeek } from "./window";
export * from "./types";

/**
 * A drill described as plain data: what the RestoreDrill dynamic provider receives as inputs and
 * hands to `runDrillSpec` at deploy time. Nothing in it is a live object.
 */
export interface DrillSpec {
  window: string;
  mode: RestoreMode;
  /** Prefix of the temporary database's name; the window and the source's hash follow. */
  temporaryPrefix: string;
  backend: RdsSpec | LocalSpec;
  checks: ValidationChecks;
  /** The validation's time budget in seconds. @default 600 (the function's limit is 900) */
  validationBudgetSeconds?: number;
  publish: PublishTarget;
}

export interface RdsSpec {
  kind: "rds";
  /** Region and credentials: the stack's AWS provider settings. */
  aws: AwsTarget;
  sourceIdentifier: string;
  subnetGroupName: string;
  securityGroupIds: string[];
  databaseName: string;
  /** The validation function inside the VPC (name or ARN). */
  validationFunction: string;
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
  signal?: AbortSignal;
}

/** Checks a spec before anything runs; every message names the setting and the fix. */
function validateDrillSpec(spec: DrillSpec): void {
  if (!ISO_WEEK.test(spec.window)) throw new Error(`window is "${spec.window}"; use an ISO week such as 2025-W03 (isoWeek(new Date()))`);
  if (spec.mode !== "snapshot" && spec.mode !== "pitr") throw new Error(`mode is "${String(spec.mode)}"; use "snapshot" or "pitr"`);
  if (spec.backend.kind === "local" && spec.mode !== "snapshot") throw new Error('the local backend restores snapshots only; set mode to "snapshot"');
  if (spec.backend.kind === "rds") {
    if (spec.backend.securityGroupIds.length === 0) throw new Error("securityGroupIds is empty; pass the source database's security groups");
    if (!spec.backend.subnetGroupName) throw new Error("subnetGroupName is empty; pass the source database's DB subnet group");
    if (!spec.backend.validationFunction) throw new Error("validationFunction is empty; pass the validation function the DrillValidation component builds");
  }
  const tolerance = spec.checks.tolerancePercent ?? 0;
  if (!(tolerance >= 0 && tolerance <= 100)) throw new Error(`checks.tolerancePercent is ${tolerance}; use a percentage from 0 to 100`);
}

/** The backend and the validator a spec runs with. */
function backendFor(spec: DrillSpec): { backend: RestoreBackend; validator: Validator; publishClient?: ReturnType<typeof awsClientConfig> } {
  const b = spec.backend;
  if (b.kind === "local") {
    const inProcess: Validator = (request: ValidationRequest, signal?: AbortSignal): Promise<ValidationResult> => validate(request, signal);
    return { backend: localBackend({ adminUrl: b.adminUrl, sourceDatabase: b.sourceDatabase }), validator: inProcess };
  }
  const { LambdaClient } = require("@aws-sdk/client-lambda") as typeof import("@aws-sdk/client-lambda");
  const clientConfig = awsClientConfig(b.aws);
  return {
    backend: rdsBackend({
      aws: b.aws,
      sourceIdentifier: b.sourceIdentifier,
      subnetGroupName: b.subnetGroupName,
      securityGroupIds: b.securityGroupIds,
      databaseName: b.databaseName,
      instanceClass: b.instanceClass,
      availableTimeoutMs: (b.availableTimeoutSeconds ?? 3600) * 1000,
      deleteTimeoutMs: (b.deleteTimeoutSeconds ?? 1800) * 1000,
    }),
    validator: lambdaValidator(b.validationFunction, new LambdaClient(clientConfig)),
    publishClient: clientConfig,
  };
}

/** The temporary database's name for a spec: an RDS identifier or a local database name. */
function temporaryIdFor(spec: DrillSpec, sourceId: string): string {
  const id = temporaryIdentifier(spec.temporaryPrefix, spec.window, sourceId);
  return spec.backend.kind === "local" ? id.replace(/-/g, "_") : id;
}

/**
 * Runs the drill a spec describes and publishes its record, also when the drill failed (the
 * RestoreDrillSucceeded metric is then 0 and the alarm pages). Throws a DrillError (after
 * publishing) only when the temporary database could not be deleted or AWS could not be reached.
 */
export async function runDrillSpec(spec: DrillSpec, hooks: SpecHooks = {}): Promise<DrillRecord> {
  validateDrillSpec(spec);
  const { backend, validator, publishClient } = backendFor(spec);
  const checks: ValidationChecks =
    spec.backend.kind === "local" && !spec.checks.referenceCounts
      ? { ...spec.checks, referenceTarget: localTarget(Object.assign(new URL(spec.backend.adminUrl), { pathname: `/${spec.backend.sourceDatabase}` }).toString()) }
      : spec.checks;
  let record: DrillRecord;
  try {
    record = await runDrill({
      backend,
      mode: spec.mode,
      window: spec.window,
      temporaryId: temporaryIdFor(spec, backend.sourceId),
      validator,
      checks,
      validationBudgetMs: spec.validationBudgetSeconds === undefined ? undefined : spec.validationBudgetSeconds * 1000,
      ...hooks,
    });
  } catch (error) {
    const failed = (error as { record?: DrillRecord }).record;
    if (failed) {
      await publishRecord(failed, spec.publish, publishClient).catch((publishError: unknown) => {
        failed.notes.push(`publishing the record failed: ${(publishError as Error).message}`);
      });
    }
    throw error;
  }
  const places = await publishRecord(record, spec.publish, publishClient);
  record.notes.push(`record published to ${places.join(", ") || "nowhere (no target)"}`);
  return record;
}

/** Deletes every temporary database of the spec's source, this window's included (the provider's delete). */
export async function sweepTemporaries(spec: DrillSpec): Promise<string[]> {
  return backendFor(spec).backend.sweep();
}
