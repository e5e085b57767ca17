import { mkdir, writeFile } from "node:fs/promises";
import * as path from "node:path";
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
  region?: string;
  /** A local directory for the JSON record (local drills). */
  directory?: string;
}

/** Where a record is stored in the bucket: by source, then week, then start time. */
export function recordKey(record: DrillRecord): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "_");
  return `drills/${safe(record.sourceId)}/${record.window}/${safe(record.startedAt)}.json`;
}

/** Publishes a record everywhere the target says; returns where it went. */
export async function publishRecord(record: DrillRecord, target: PublishTarget): Promise<string[]> {
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
    const s3 = new S3Client({ region: target.region });
    const key = recordKey(record);
    await s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: body, ContentType: "application/json" }));
    places.push(`s3://${target.bucket}/${key}`);
  }
  if (target.metrics) {
    const { CloudWatchClient, PutMetricDataCommand } = await import("@aws-sdk/client-cloudwatch");
    const cloudwatch = new CloudWatchClient({ region: target.region });
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
