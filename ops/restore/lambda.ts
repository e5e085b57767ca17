import { parse as parseArn } from "@aws-sdk/util-arn-parser";
import { publishRecord } from "./publish";
import type { DrillRecord } from "./types";
import { isoWeek } from "./window";
import { validate, type ValidationChecks, type ValidationRequest, type ValidationResult } from "./validation";

/**
 * The validation function's entry point (bundled with esbuild into the Lambda that runs in the
 * database's subnets). Two callers:
 * - the RestoreDrill and IntegrityCheck providers invoke it with a ValidationRequest and get a
 *   ValidationResult back (the orchestrator publishes the record);
 * - AWS Backup restore testing: an EventBridge rule delivers "Restore Job State Change" events; for a
 *   completed restore job of this function's restore testing plan it validates the restored
 *   instance, publishes the same drill record and metrics as the deploy-time drill, and reports with
 *   PutRestoreValidationResult. AWS Backup deletes the restored instance afterwards.
 *
 * Configuration comes from the environment the component sets (RESTORE_TESTING_* below). The event
 * and the request are never logged: a request carries a one-time password.
 */

/** The EventBridge event AWS Backup emits when a restore job changes state (the fields used here). */
export interface RestoreJobStateChange {
  source: "aws.backup";
  "detail-type": "Restore Job State Change";
  time?: string;
  detail: { restoreJobId: string; status?: string; resourceType?: string };
}

/** The function's environment for restore testing validation. */
export interface RestoreTestingEnvironment {
  /** The restore testing plan whose jobs this function validates; jobs of other plans are ignored. */
  RESTORE_TESTING_PLAN_ARN: string;
  /** The source DB instance identifier: the record's source and the metrics' dimension. */
  RESTORE_TESTING_SOURCE: string;
  RESTORE_TESTING_DATABASE: string;
  /** The source's RDS-managed master secret: a restore from a snapshot keeps the master password it had. */
  RESTORE_TESTING_SECRET_ARN: string;
  /** JSON of ValidationChecks. */
  RESTORE_TESTING_CHECKS: string;
  /** The drill-records bucket. */
  DRILL_RECORDS_BUCKET: string;
}

export type RestoreTestingOutcome = { ignored: string } | { record: DrillRecord };

function isRestoreJobEvent(event: unknown): event is RestoreJobStateChange {
  const e = event as Partial<RestoreJobStateChange> | null;
  return e?.source === "aws.backup" && e["detail-type"] === "Restore Job State Change" && typeof e.detail?.restoreJobId === "string";
}

function environment(env: NodeJS.ProcessEnv): RestoreTestingEnvironment {
  const keys = ["RESTORE_TESTING_PLAN_ARN", "RESTORE_TESTING_SOURCE", "RESTORE_TESTING_DATABASE", "RESTORE_TESTING_SECRET_ARN", "RESTORE_TESTING_CHECKS", "DRILL_RECORDS_BUCKET"] as const;
  const missing = keys.filter((k) => !env[k]);
  if (missing.length > 0) throw new Error(`the validation function's environment lacks ${missing.join(", ")}; it is set by the RestoreTesting component`);
  return Object.fromEntries(keys.map((k) => [k, env[k] as string])) as unknown as RestoreTestingEnvironment;
}

/**
 * Validates a completed restore test job and reports it; the restored instance is AWS Backup's to delete.
 * @param readinessTimeoutMs how long the first connection is retried; the job is complete, so the
 *   instance is available and a minute covers DNS and security group propagation. @default 60000
 */
export async function validateRestoreTestJob(event: RestoreJobStateChange, env: RestoreTestingEnvironment, readinessTimeoutMs = 60_000): Promise<RestoreTestingOutcome> {
  const { BackupClient, DescribeRestoreJobCommand, PutRestoreValidationResultCommand } = await import("@aws-sdk/client-backup");
  const { RDSClient, DescribeDBInstancesCommand } = await import("@aws-sdk/client-rds");
  const backup = new BackupClient({});
  const job = await backup.send(new DescribeRestoreJobCommand({ RestoreJobId: event.detail.restoreJobId }));
  if (job.CreatedBy?.RestoreTestingPlanArn !== env.RESTORE_TESTING_PLAN_ARN) return { ignored: `restore job ${event.detail.restoreJobId} is not from ${env.RESTORE_TESTING_PLAN_ARN}` };
  if (job.Status !== "COMPLETED" || !job.CreatedResourceArn) return { ignored: `restore job ${event.detail.restoreJobId} is ${job.Status ?? "in an unknown state"}` };
  const arn = parseArn(job.CreatedResourceArn);
  const identifier = arn.resource.replace(/^db:/, "");
  const startedAt = new Date();
  const instance = (await new RDSClient({}).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }))).DBInstances?.[0];
  const checks = JSON.parse(env.RESTORE_TESTING_CHECKS) as ValidationChecks;
  let result: ValidationResult;
  if (!instance?.Endpoint?.Address) {
    result = { passed: false, nothingToDrill: false, summary: `the restored instance ${identifier} has no endpoint`, results: [], rowCounts: {}, notes: [], durationMs: 0 };
  } else {
    const request: ValidationRequest = {
      kind: "validate",
      mode: "restored",
      target: {
        host: instance.Endpoint.Address,
        port: instance.Endpoint.Port ?? 5432,
        database: env.RESTORE_TESTING_DATABASE,
        user: instance.MasterUsername ?? "postgres",
        passwordSecretArn: env.RESTORE_TESTING_SECRET_ARN,
        tls: "rds",
      },
      checks,
      // Lambda stops at 15 minutes; the report must still be sent.
      budgetMs: 780_000,
      readinessTimeoutMs,
    };
    result = await validate(request);
  }
  const finishedAt = new Date();
  const completedAt = job.CompletionDate ?? finishedAt;
  const record: DrillRecord = {
    backend: "aws-backup",
    sourceId: env.RESTORE_TESTING_SOURCE,
    window: isoWeek(completedAt),
    restoreMode: "snapshot",
    snapshotId: job.RecoveryPointArn ?? "",
    capturedAt: job.RecoveryPointCreationDate?.toISOString() ?? "",
    temporaryId: identifier,
    startedAt: (job.CreationDate ?? startedAt).toISOString(),
    finishedAt: finishedAt.toISOString(),
    // AWS Backup's restore duration plus the checks: restore requested until the checks passed.
    rtoSeconds: result.passed && job.CreationDate ? Math.round((finishedAt.getTime() - job.CreationDate.getTime()) / 100) / 10 : undefined,
    passed: result.passed,
    integritySummary: result.summary,
    notes: [`AWS Backup restore testing job ${event.detail.restoreJobId}`, ...result.notes],
    rowCounts: result.rowCounts,
    results: result.results,
    cleanedUp: true,
  };
  await publishRecord(record, { bucket: env.DRILL_RECORDS_BUCKET, metrics: true });
  await backup.send(
    new PutRestoreValidationResultCommand({
      RestoreJobId: event.detail.restoreJobId,
      ValidationStatus: result.passed ? "SUCCESSFUL" : "FAILED",
      // The summary only: failed checks quote sample values from the data.
      ValidationStatusMessage: result.summary.slice(0, 1000),
    }),
  );
  return { record };
}

/** The Lambda handler. */
export async function handler(event: unknown): Promise<ValidationResult | RestoreTestingOutcome> {
  if (isRestoreJobEvent(event)) return validateRestoreTestJob(event, environment(process.env));
  const request = event as Partial<ValidationRequest> | null;
  if (request?.kind === "validate" && request.target && request.checks && (request.mode === "restored" || request.mode === "live")) {
    return validate(request as ValidationRequest);
  }
  throw new Error('the validation function takes a ValidationRequest ({ kind: "validate", mode, target, checks }) or an AWS Backup "Restore Job State Change" event');
}
