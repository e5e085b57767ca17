import { Bucket } from "@pulumi/aws/s3/bucket";
import { BucketPolicy } from "@pulumi/aws/s3/bucketPolicy";
import { pointingAt, type RunbookStackPolicy } from "../../../lib/policy";
import { BUCKET_KEYS } from "./publicAccessBlock";

interface Statement {
  Effect?: string;
  Principal?: unknown;
  Action?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

function documentOf(policy: unknown): { Statement?: Statement | Statement[] } | undefined {
  if (typeof policy === "string") {
    try {
      return JSON.parse(policy) as { Statement?: Statement | Statement[] };
    } catch {
      return undefined;
    }
  }
  return typeof policy === "object" && policy !== null ? (policy as { Statement?: Statement | Statement[] }) : undefined;
}

/** A statement that denies every S3 action to everyone when the request is not over TLS. */
export function deniesInsecureTransport(statement: Statement): boolean {
  const everyone = statement.Principal === "*" || (typeof statement.Principal === "object" && (statement.Principal as { AWS?: unknown }).AWS === "*");
  const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
  const secureTransport = statement.Condition?.Bool?.["aws:SecureTransport"];
  return (
    statement.Effect === "Deny" &&
    everyone &&
    actions.some((a) => a === "s3:*" || a === "*") &&
    (secureTransport === "false" || secureTransport === false)
  );
}

/**
 * `aws-s3-bucket-tls-only`: every bucket's policy denies requests that are not over TLS.
 * Severity high. Protects "Storage: S3-compatible object storage".
 */
export const awsS3BucketTlsOnly: RunbookStackPolicy = {
  name: "aws-s3-bucket-tls-only",
  description: "Every S3 bucket has a bucket policy denying s3:* when aws:SecureTransport is false.",
  severity: "high",
  runbookLine: "Deployment topology: Storage: S3-compatible object storage",
  remediationSteps: 'Add to the bucket policy: {"Effect":"Deny","Principal":"*","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}} on the bucket and its objects.',
  validateStack: (args, reportViolation) => {
    const policies = args.resources.filter((r) => r.isType(BucketPolicy));
    for (const bucket of args.resources.filter((r) => r.isType(Bucket))) {
      const statements = pointingAt(policies, "bucket", bucket, BUCKET_KEYS).flatMap((p) => {
        const statement = documentOf(p.props.policy)?.Statement;
        return statement === undefined ? [] : Array.isArray(statement) ? statement : [statement];
      });
      if (!statements.some(deniesInsecureTransport)) {
        reportViolation(`${bucket.name}: no bucket policy statement denies s3:* when aws:SecureTransport is false.`, bucket.urn);
      }
    }
  },
};
