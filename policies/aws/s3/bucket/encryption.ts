import { Bucket } from "@pulumi/aws/s3/bucket";
import { BucketServerSideEncryptionConfiguration } from "@pulumi/aws/s3/bucketServerSideEncryptionConfiguration";
import { pointingAt, type RunbookStackPolicy } from "../../../lib/policy";
import { BUCKET_KEYS } from "./publicAccessBlock";

/** Default-encryption algorithms S3 accepts. */
const SSE_ALGORITHMS = ["AES256", "aws:kms", "aws:kms:dsse"];

interface EncryptionRule {
  applyServerSideEncryptionByDefault?: { sseAlgorithm?: string };
}

/**
 * `aws-s3-bucket-encrypted`: every bucket declares default encryption (its own
 * BucketServerSideEncryptionConfiguration, so the setting is managed and drift is detected).
 * Severity high. Protects "Storage: S3-compatible object storage".
 */
export const awsS3BucketEncrypted: RunbookStackPolicy = {
  name: "aws-s3-bucket-encrypted",
  description: "Every S3 bucket has a BucketServerSideEncryptionConfiguration with a default algorithm.",
  severity: "high",
  runbookLine: "Deployment topology: Storage: S3-compatible object storage",
  remediationSteps: "Add an aws.s3.BucketServerSideEncryptionConfiguration with applyServerSideEncryptionByDefault.sseAlgorithm AES256 or aws:kms.",
  validateStack: (args, reportViolation) => {
    const configurations = args.resources.filter((r) => r.isType(BucketServerSideEncryptionConfiguration));
    for (const bucket of args.resources.filter((r) => r.isType(Bucket))) {
      const rules = pointingAt(configurations, "bucket", bucket, BUCKET_KEYS).flatMap((c) =>
        Array.isArray(c.props.rules) ? (c.props.rules as EncryptionRule[]) : [],
      );
      const algorithms = rules.map((rule) => rule.applyServerSideEncryptionByDefault?.sseAlgorithm);
      if (!algorithms.some((a) => a !== undefined && SSE_ALGORITHMS.includes(a))) {
        reportViolation(`${bucket.name}: no server-side encryption configuration with a default algorithm (${SSE_ALGORITHMS.join(", ")}).`, bucket.urn);
      }
    }
  },
};
