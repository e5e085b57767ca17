import { Bucket } from "@pulumi/aws/s3/bucket";
import { BucketPublicAccessBlock } from "@pulumi/aws/s3/bucketPublicAccessBlock";
import { pointingAt, type RunbookStackPolicy } from "../../../lib/policy";

/** The four switches of an S3 public access block; every one must be on. */
export const PUBLIC_ACCESS_BLOCK_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

/** Bucket props that name a bucket in side resources' `bucket` input. */
export const BUCKET_KEYS = ["bucket", "id"] as const;

/**
 * `aws-s3-bucket-public-access-blocked`: every bucket has a public access block with all four
 * switches on. Severity critical. Protects "Storage: S3-compatible object storage" (uploads and the
 * frontend are served through presigned URLs and CloudFront, never publicly).
 */
export const awsS3BucketPublicAccessBlocked: RunbookStackPolicy = {
  name: "aws-s3-bucket-public-access-blocked",
  description: "Every S3 bucket has a BucketPublicAccessBlock with all four settings true.",
  severity: "critical",
  runbookLine: "Deployment topology: Storage: S3-compatible object storage",
  remediationSteps: "Add an aws.s3.BucketPublicAccessBlock for the bucket with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets true.",
  validateStack: (args, reportViolation) => {
    const blocks = args.resources.filter((r) => r.isType(BucketPublicAccessBlock));
    for (const bucket of args.resources.filter((r) => r.isType(Bucket))) {
      const mine = pointingAt(blocks, "bucket", bucket, BUCKET_KEYS);
      if (mine.length === 0) {
        reportViolation(`${bucket.name}: no BucketPublicAccessBlock; the bucket's objects could be made public.`, bucket.urn);
        continue;
      }
      const off = PUBLIC_ACCESS_BLOCK_FLAGS.filter((flag) => !mine.some((block) => block.props[flag] === true));
      if (off.length > 0) {
        reportViolation(`${bucket.name}: the public access block leaves ${off.join(", ")} off; all four must be true.`, bucket.urn);
      }
    }
  },
};
