import type * as pulumi from "@pulumi/pulumi";
import * as s3 from "@pulumi/aws/s3";
import type { StackIdentity } from "../naming";
import { forceDestroy, stateful } from "../protection";

/** A bucket nobody reaches directly: public access blocked, ACLs disabled, encrypted at rest. */
export function privateBucket(
  name: string,
  prefix: string,
  tags: Record<string, string>,
  parent: pulumi.Resource,
  stack: StackIdentity,
): { bucket: s3.Bucket; publicAccessBlock: s3.BucketPublicAccessBlock } {
  // bucketPrefix: bucket names are global, so S3 gets a unique suffix (a prefix may be 37 characters).
  // Protection (components/protection.ts): protected in production, emptied by `pulumi destroy` in staging.
  const bucket = new s3.Bucket(name, { bucketPrefix: `${prefix.slice(0, 36)}-`, forceDestroy: forceDestroy(stack), tags }, stateful(stack, "bucket", parent));
  const publicAccessBlock = new s3.BucketPublicAccessBlock(
    `${name}-public-access`,
    { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
    { parent },
  );
  // OAC needs BucketOwnerEnforced: objects uploaded by CI belong to the bucket owner, ACLs are off.
  new s3.BucketOwnershipControls(`${name}-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, { parent });
  // SSE-S3, not KMS: CloudFront (OAC) and log delivery would each need grants on a customer key.
  new s3.BucketServerSideEncryptionConfiguration(
    `${name}-encryption`,
    { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
    { parent },
  );
  return { bucket, publicAccessBlock };
}
