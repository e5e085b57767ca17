import { mkdir, writeFile } from "node:fs/promises";
import * as path from "node:path";
import type { RDSClientConfig } from "@aws-sdk/client-rds";
import type { DrillRecord } from "./types";

/**
 * "Record RTO and data integrity notes" (RUNBOOK.md, Backup and restore drill, step 7): each drill's
 * record goes to the versioned drill-records bucket as JSON, and two CloudWatch metrics feed the
 * alarm that pages when a drill fails or takes longer than the RTO target.
 */

export const DRILL_METRIC_NAMESPACE = "RunbookPlatform/RestoreDrill";
export const DRILL_METRICS = { rtoSeconds: "RestoreDrillRtoSeconds", succeeded: "RestoreDrillSucceeded" } as const;
/** The metrics' one dimension: the source database's identifier. */
export const DRILL_METRIC_DIMENSION = "DBInstanceIdentifier";

export interface PublishTarget {
  /** The drill-records bucket (S3). */
  bucket?: string;
  /** Publish RestoreDrillRtoSeconds and RestoreDrillSucceeded to CloudWatch. */
  metrics?: boolean;
  /** A local directory for the JSON record (local drills). */
  directory?: string;
}

/** Where a record is stored in the bucket: by source, then week, then start time. */
function recordKey(record: DrillRecord): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "_");
  return `drills/${safe(record.sourceId)}/${record.window}/${safe(record.startedAt)}.json`;
}

/**
 * Publishes a record everywhere the target says; returns where it went. `clientConfig` carries the
 * stack's AWS region and credentials (the validation function passes none: its own role and region).
 */
export async function publishRecord(record: DrillRecord, target: PublishTarget, clientConfig: { region?: string; credentials?: RDSClientConfig["credentials"] } = {}): Promise<string[]> {
  const body = `${JSON.stringify(record, null, 2)}\n`;
  const places: string[] = [];
  if (target.directory) {
    await mkdir(target.directory, { recursive: true });
    const file = path.join(target.directory, path.basename(recordKey(record)).replace(/\.json$/, `-${record.window}.json`));
    await writeFile(file, body);
    places.push(file);
  }
  if (target.bucket) {
    const { S3Client, PutObjectCommand } = await import("@aws-sdk/client-s3");
    const s3 = new S3Client({ ...clientConfig });
    const key = recordKey(record);
    await s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: body, ContentType: "application/json" }));
    places.push(`s3://${target.bucket}/${key}`);
  }
  if (target.metrics) {
    const { CloudWatchClient, PutMetricDataCommand } = await import("@aws-sdk/client-cloudwatch");
    const cloudwatch = new CloudWatchClient({ ...clientConfig });
    const dimensions = [{ Name: DRILL_METRIC_DIMENSION, Value: record.sourceId }];
    const timestamp = new Date(record.finishedAt);
    await cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: DRILL_METRIC_NAMESPACE,
        MetricData: [
          { MetricName: DRILL_METRICS.succeeded, Dimensions: dimensions, Timestamp: timestamp, Unit: "Count", Value: record.passed ? 1 : 0 },
          ...(record.rtoSeconds === undefined
            ? []
            : [{ MetricName: DRILL_METRICS.rtoSeconds, Dimensions: dimensions, Timestamp: timestamp, Unit: "Seconds" as const, Value: record.rtoSeconds }]),
        ],
      }),
    );
    places.push(`cloudwatch:${DRILL_METRIC_NAMESPACE}`);
  }
  return places;
}

/**
 * Whether a published record is still there (`pulumi refresh`): `s3://bucket/key` or a local file.
 * Throws when the answer is unknown (AWS not reachable, access denied).
 */
export async function recordExists(location: string, clientConfig: { region?: string; credentials?: RDSClientConfig["credentials"] } = {}): Promise<boolean> {
  const s3Location = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (!s3Location) {
    const { access } = await import("node:fs/promises");
    return access(location).then(
      () => true,
      () => false,
    );
  }
  const { S3Client, HeadObjectCommand } = await import("@aws-sdk/client-s3");
  try {
    await new S3Client({ ...clientConfig }).send(new HeadObjectCommand({ Bucket: s3Location[1], Key: s3Location[2] }));
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === "NotFound" || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw error;
  }
}
