import * as pulumi from "@pulumi/pulumi";
import * as s3 from "@pulumi/aws/s3";
import type { StackIdentity } from "./naming";
import { physicalName } from "./naming";
import { forceDestroy, stateful } from "./protection";

/** Methods the frontend uses on the uploads bucket: presigned GET downloads and PUT uploads. */
const CORS_METHODS = ["GET", "HEAD", "PUT"] as const;
/** Request headers a presigned upload sends (the SDK's checksum headers are `x-amz-*`). */
const CORS_ALLOWED_HEADERS = ["Content-Type", "Content-MD5", "Content-Disposition", "x-amz-*"] as const;
/** Multipart uploads read each part's ETag from the response. */
const CORS_EXPOSE_HEADERS = ["ETag"] as const;
/** Browsers cache the preflight answer for an hour. */
const CORS_MAX_AGE_SECONDS = 3600;

export interface StorageArgs {
  /** Stack the bucket belongs to; part of its physical name. */
  stack: StackIdentity;
  /**
   * Origins allowed to call the bucket from a browser: `https://` and a host, no path, no wildcard.
   * Empty means no CORS configuration at all (no browser origin is admitted).
   * @default []
   * @example ["https://app.example.com"]
   */
  corsOrigins?: pulumi.Input<string>[];
  /** Days a replaced or deleted object's previous version is kept before it expires. */
  noncurrentVersionDays: number;
  /** Days after which an unfinished multipart upload is aborted (its parts cost storage). */
  abortIncompleteUploadDays: number;
  /** Tags for every taggable child. */
  tags: Record<string, string>;
  /** Reach the bucket's raw args for settings this interface does not offer. */
  transform?: { bucket?: (args: s3.BucketArgs) => s3.BucketArgs };
}

const ORIGIN = /^https:\/\/[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?$/;

/** Throws unless the origin is `https://host[:port]`: a wildcard or plain HTTP would open the bucket to any page. */
export function validateCorsOrigin(origin: string): string {
  if (!ORIGIN.test(origin)) {
    throw new Error(`Storage: CORS origin "${origin}" is not https://<host> without path or wildcard, such as https://app.example.com.`);
  }
  return origin;
}

/** Throws a fixable message for args S3 would refuse or that open the bucket. */
export function validateStorageArgs(args: StorageArgs): void {
  for (const origin of args.corsOrigins ?? []) {
    if (typeof origin === "string") validateCorsOrigin(origin);
  }
  if (!Number.isInteger(args.noncurrentVersionDays) || args.noncurrentVersionDays < 1) {
    throw new Error(`Storage: noncurrentVersionDays is ${args.noncurrentVersionDays}; keep previous versions at least 1 day.`);
  }
  if (!Number.isInteger(args.abortIncompleteUploadDays) || args.abortIncompleteUploadDays < 1) {
    throw new Error(`Storage: abortIncompleteUploadDays is ${args.abortIncompleteUploadDays}; use a whole number of days, at least 1.`);
  }
}

/** A bucket policy statement that refuses every request made without TLS, on the bucket and its objects. */
export function denyInsecureTransport(bucketArn: string): Record<string, unknown> {
  return {
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: [bucketArn, `${bucketArn}/*`],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

/** A bucket policy that denies every request that does not arrive over TLS. */
export function tlsOnlyPolicy(bucketArn: string): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: [denyInsecureTransport(bucketArn)] });
}

/**
 * The uploads bucket ("Storage: S3-compatible object storage"): private, owner-enforced, versioned,
 * encrypted, TLS only, with lifecycle rules that bound what versioning keeps.
 */
export class Storage extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketArn: pulumi.Output<string>;
  public readonly bucketRegionalDomainName: pulumi.Output<string>;

  constructor(name: string, args: StorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook-platform:data:Storage", name, {}, opts);
    validateStorageArgs(args);
    const { stack, tags, transform } = args;
    const corsOrigins = args.corsOrigins ?? [];

    const bucketArgs: s3.BucketArgs = {
      // A prefix, not a name: bucket names are global, Pulumi's suffix keeps two accounts apart.
      bucketPrefix: `${physicalName(stack, "uploads", "s3")}-`,
      // The bucket is versioned: without forceDestroy, staging's `pulumi destroy` stops at its object versions.
      forceDestroy: forceDestroy(stack),
      tags,
    };
    const bucket = new s3.Bucket(`${name}-bucket`, transform?.bucket ? transform.bucket(bucketArgs) : bucketArgs, stateful(stack, "bucket", this));

    const publicAccessBlock = new s3.BucketPublicAccessBlock(
      `${name}-public-access-block`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      { parent: this },
    );
    new s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      { parent: this },
    );
    const versioning = new s3.BucketVersioning(
      `${name}-versioning`,
      { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
      { parent: this },
    );
    // SSE-S3: every reader (API presigned URLs, a CloudFront origin) works without a KMS grant.
    new s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      { parent: this },
    );
    new s3.BucketPolicy(
      `${name}-tls-only`,
      { bucket: bucket.id, policy: bucket.arn.apply(tlsOnlyPolicy) },
      // S3 rejects a policy written while the public access block is still being applied.
      { parent: this, dependsOn: [publicAccessBlock] },
    );
    new s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "expire-noncurrent-versions",
            status: "Enabled",
            filter: {},
            noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionDays },
          },
          {
            id: "abort-incomplete-multipart-uploads",
            status: "Enabled",
            filter: {},
            abortIncompleteMultipartUpload: { daysAfterInitiation: args.abortIncompleteUploadDays },
          },
        ],
      },
      // A lifecycle rule on noncurrent versions needs versioning in place.
      { parent: this, dependsOn: [versioning] },
    );
    if (corsOrigins.length > 0) {
      new s3.BucketCorsConfiguration(
        `${name}-cors`,
        {
          bucket: bucket.id,
          corsRules: [
            {
              id: "frontend",
              allowedOrigins: corsOrigins.map((origin) => pulumi.output(origin).apply(validateCorsOrigin)),
              allowedMethods: [...CORS_METHODS],
              allowedHeaders: [...CORS_ALLOWED_HEADERS],
              exposeHeaders: [...CORS_EXPOSE_HEADERS],
              maxAgeSeconds: CORS_MAX_AGE_SECONDS,
            },
          ],
        },
        { parent: this },
      );
    }

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.bucketRegionalDomainName = bucket.bucketRegionalDomainName;

    this.registerOutputs({
      bucketName: this.bucketName,
      bucketArn: this.bucketArn,
      bucketRegionalDomainName: this.bucketRegionalDomainName,
    });
  }
}
