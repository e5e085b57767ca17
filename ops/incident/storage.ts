import { randomUUID } from "node:crypto";
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { CheckResult } from "../lib/report";
import { describeNetworkError, redactUrl } from "./errors";

/**
 * Incident step 5, "Verify object storage availability": write, read back and delete a canary
 * object. Works against S3 and S3-compatible servers (`endpoint` with path-style addressing).
 */

export interface StorageOptions {
  bucket: string;
  /** An S3-compatible endpoint such as http://127.0.0.1:4568; unset for AWS S3. */
  endpoint?: string;
  /** AWS region of the bucket; unset: the AWS SDK resolves it (AWS_REGION, the profile). */
  region?: string;
  timeoutMs: number;
}

/** Where canaries go; the uploads bucket's lifecycle expires the noncurrent version a delete leaves. */
const CANARY_PREFIX = "ops/incident-check/";

const CREDENTIAL_ERRORS = new Set(["InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"]);

function describeS3Error(error: unknown, options: StorageOptions, where: string): string {
  const name = (error as { name?: string }).name ?? "";
  const message = error instanceof Error ? error.message : String(error);
  if (name === "NoSuchBucket") return `bucket "${options.bucket}" does not exist at ${where}: check --bucket (the stack output uploadsBucketName)`;
  if (/^Region is missing/.test(message)) return "no AWS region for the bucket: pass --region (the stack's aws:region) or set AWS_REGION";
  if (name === "CredentialsProviderError") return "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
  if (CREDENTIAL_ERRORS.has(name)) return `object storage at ${where} rejected the credentials (${name}): check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE`;
  if (name === "AccessDenied") return `access denied on s3://${options.bucket}/${CANARY_PREFIX}: the caller needs s3:PutObject, s3:GetObject and s3:DeleteObject there`;
  if (name === "TimeoutError" || name === "AbortError") return `object storage at ${where} did not answer within ${options.timeoutMs} ms`;
  if (name && !/^(Error|TypeError)$/.test(name) && !(error as { code?: string }).code) return `object storage at ${where}: ${name}: ${message}`;
  return describeNetworkError(error, "object storage", where, options.timeoutMs);
}

/** Three rows: write, read (content compared), delete. A failed write leaves the other two not run (status skip). */
export async function checkStorage(options: StorageOptions): Promise<CheckResult[]> {
  const where = options.endpoint ? redactUrl(options.endpoint) : options.region ? `s3.${options.region}.amazonaws.com` : "AWS S3 (the SDK's region)";
  const client = new S3Client({
    ...(options.region ? { region: options.region } : {}),
    maxAttempts: 1,
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
  });
  const key = `${CANARY_PREFIX}canary-${new Date().toISOString().replace(/[:.]/g, "-")}-${randomUUID()}.txt`;
  const content = `incident-check canary ${randomUUID()}`;
  const signal = () => ({ abortSignal: AbortSignal.timeout(options.timeoutMs) });
  const results: CheckResult[] = [];
  const steps: [string, () => Promise<string>][] = [
    [
      "object storage write",
      async () => {
        await client.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: content, ContentType: "text/plain" }), signal());
        return `wrote s3://${options.bucket}/${key}`;
      },
    ],
    [
      "object storage read",
      async () => {
        const got = await client.send(new GetObjectCommand({ Bucket: options.bucket, Key: key }), signal());
        const body = await got.Body?.transformToString();
        if (body !== content) throw new Error(`read back ${body?.length ?? 0} bytes that differ from the ${content.length} written`);
        return `read back the canary (${content.length} bytes, identical)`;
      },
    ],
    [
      "object storage delete",
      async () => {
        await client.send(new DeleteObjectCommand({ Bucket: options.bucket, Key: key }), signal());
        return "deleted the canary";
      },
    ],
  ];
  try {
    // The delete runs whenever the write succeeded, so a failed read leaves no canary behind.
    let written = false;
    for (const [check, run] of steps) {
      if (check !== "object storage write" && !written) {
        // Not run, not failed: one failed write is one failure, and the report's counts say so.
        results.push({ check, status: "skip", detail: "not run: the canary could not be written" });
        continue;
      }
      const started = performance.now();
      try {
        results.push({ check, status: "pass", detail: await run(), durationMs: performance.now() - started });
        if (check === "object storage write") written = true;
      } catch (error) {
        const detail = error instanceof Error && error.message.startsWith("read back") ? error.message : describeS3Error(error, options, where);
        results.push({ check, status: "fail", detail, durationMs: performance.now() - started });
      }
    }
    return results;
  } finally {
    client.destroy();
  }
}
