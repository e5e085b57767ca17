import type { CheckResult } from "../lib/report";
import { checkLive, checkReady, checkRequestId } from "./http";
import { checkDatabase } from "./postgres";
import { checkRedis } from "./redis";
import { checkStorage } from "./storage";

/**
 * The runbook's "Incident response quick steps" as one command. Step 2 ("Check latest deploy and
 * rollback if needed") is a decision for the on-call engineer; the rest is checked here.
 */

export interface IncidentCheckOptions {
  baseUrl: string;
  databaseUrl?: string;
  redisUrl?: string;
  bucket?: string;
  s3Endpoint?: string;
  /** AWS region of the bucket; unset: the AWS SDK resolves it (AWS_REGION, the profile). */
  region?: string;
  /** Deadline of every network call. */
  timeoutMs: number;
}

/** Runs every check whose target was given, in the runbook's order; independent checks run in parallel. */
export async function runIncidentCheck(options: IncidentCheckOptions): Promise<CheckResult[]> {
  const { baseUrl, timeoutMs } = options;
  const skipped = (check: string, flag: string): CheckResult[] => [{ check, status: "info", detail: `skipped: pass ${flag} to check it` }];
  const groups = await Promise.all([
    checkLive(baseUrl, timeoutMs).then((r) => [r]),
    checkReady(baseUrl, timeoutMs).then((r) => [r]),
    checkRequestId(baseUrl, timeoutMs, "incident-check").then((r) => [r]),
    options.databaseUrl ? checkDatabase(options.databaseUrl, timeoutMs) : skipped("database", "--database-url (or DATABASE_URL)"),
    options.redisUrl ? checkRedis(options.redisUrl, timeoutMs) : skipped("redis", "--redis-url (or REDIS_URL)"),
    options.bucket
      ? checkStorage({ bucket: options.bucket, region: options.region, timeoutMs, ...(options.s3Endpoint ? { endpoint: options.s3Endpoint } : {}) })
      : skipped("object storage", "--bucket"),
  ]);
  return groups.flat();
}
