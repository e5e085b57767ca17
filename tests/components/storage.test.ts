import { beforeAll, describe, expect, it } from "vitest";
import { tlsOnlyPolicy, validateCorsOrigin, validateStorageArgs, type StorageArgs } from "../../components/storage";
import type { StackName } from "../../runbook";
import { one, ofType, runProgram, type ProgramResult } from "../support/harness";
import { shippedStack } from "../../components/naming";

const EXPECTED = {
  staging: { noncurrentDays: 30, abortDays: 7 },
  production: { noncurrentDays: 90, abortDays: 7 },
} as const;

function baseArgs(): StorageArgs {
  return { stack: shippedStack("staging"), corsOrigins: ["https://app.example.com"], noncurrentVersionDays: 30, abortIncompleteUploadDays: 7, tags: {} };
}

const results = {} as Record<StackName, ProgramResult>;
beforeAll(async () => {
  results.staging = await runProgram({ stack: "staging" });
  results.production = await runProgram({ stack: "production" });
});

describe.each(["staging", "production"] as const)("Storage in %s", (stack) => {
  const result = () => results[stack];
  const bucketName = () => result().outputs.uploadsBucketName as string;

  it("is one component whose children are all named after it", () => {
    const component = one(result(), "runbook-platform:data:Storage");
    expect(component).toMatchObject({ name: "storage", parent: undefined, custom: false });
    const kids = result().resources.filter((r) => r.parentName === "storage");
    expect(kids.length).toBeGreaterThanOrEqual(7);
    for (const child of kids) expect(child.name.startsWith(`${component.name}-`), child.name).toBe(true);
  });

  it("names the bucket by prefix and tags it; only staging's destroy may empty it, only production's is protected", () => {
    const bucket = one(result(), "aws:s3/bucket:Bucket", "storage-bucket");
    expect(bucket.inputs).toEqual({
      bucketPrefix: `runbook-${stack}-uploads-`,
      forceDestroy: stack === "staging",
      tags: { project: "runbook-platform", stack, environment: stack, "managed-by": "pulumi" },
    });
    expect(bucket.options.protect).toBe(stack === "production" ? true : undefined);
    expect(result().outputs.uploadsBucketArn).toBe(`arn:aws:s3:::${bucketName()}`);
  });

  it("blocks all public access and enforces bucket-owner object ownership", () => {
    expect(one(result(), "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "storage-public-access-block").inputs).toEqual({
      bucket: bucketName(),
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(one(result(), "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "storage-ownership").inputs).toEqual({
      bucket: bucketName(),
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
  });

  it("versions and encrypts every object (SSE-S3)", () => {
    expect(one(result(), "aws:s3/bucketVersioning:BucketVersioning", "storage-versioning").inputs).toEqual({
      bucket: bucketName(),
      versioningConfiguration: { status: "Enabled" },
    });
    expect(one(result(), "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "storage-encryption").inputs).toEqual({
      bucket: bucketName(),
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
  });

  it("denies every request that does not use TLS, on the bucket and its objects", () => {
    const policy = one(result(), "aws:s3/bucketPolicy:BucketPolicy", "storage-tls-only");
    expect(policy.inputs.bucket).toBe(bucketName());
    const arn = `arn:aws:s3:::${bucketName()}`;
    expect(JSON.parse(policy.inputs.policy as string)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [arn, `${arn}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ],
    });
  });

  it("expires noncurrent versions and aborts incomplete multipart uploads", () => {
    expect(one(result(), "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "storage-lifecycle").inputs).toEqual({
      bucket: bucketName(),
      rules: [
        { id: "expire-noncurrent-versions", status: "Enabled", filter: {}, noncurrentVersionExpiration: { noncurrentDays: EXPECTED[stack].noncurrentDays } },
        { id: "abort-incomplete-multipart-uploads", status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: EXPECTED[stack].abortDays } },
      ],
    });
  });
});

describe("Storage: what differs between staging and production", () => {
  it("production admits only its frontend origin through CORS", () => {
    const cors = one(results.production, "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration", "storage-cors");
    expect(cors.inputs).toEqual({
      bucket: results.production.outputs.uploadsBucketName,
      corsRules: [
        {
          id: "frontend",
          allowedOrigins: ["https://app.example.com"],
          allowedMethods: ["GET", "HEAD", "PUT"],
          allowedHeaders: ["Content-Type", "Content-MD5", "Content-Disposition", "x-amz-*"],
          exposeHeaders: ["ETag"],
          maxAgeSeconds: 3600,
        },
      ],
    });
  });

  it("staging has no frontend domain, so no CORS configuration and no browser origin", () => {
    expect(ofType(results.staging, "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration").filter((r) => r.parentName === "storage")).toEqual([]);
  });

  it("keeps noncurrent versions 30 days in staging and 90 in production", () => {
    const days = (stack: StackName) => {
      const rules = one(results[stack], "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "storage-lifecycle").inputs.rules as {
        noncurrentVersionExpiration?: { noncurrentDays: number };
      }[];
      return rules[0]?.noncurrentVersionExpiration?.noncurrentDays;
    };
    expect([days("staging"), days("production")]).toEqual([30, 90]);
  });

  it("follows frontend.domain when staging gets one", async () => {
    const result = await runProgram({
      stack: "staging",
      config: {
        frontend: {
          domain: "app.staging.example.com",
          certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555",
        },
      },
    });
    const rules = one(result, "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration", "storage-cors").inputs.corsRules as { allowedOrigins: string[] }[];
    expect(rules[0]?.allowedOrigins).toEqual(["https://app.staging.example.com"]);
  });
});

describe("validateStorageArgs", () => {
  it("accepts an https origin, with or without a port", () => {
    expect(() => validateStorageArgs(baseArgs())).not.toThrow();
    expect(validateCorsOrigin("https://localhost:5173")).toBe("https://localhost:5173");
  });

  it.each(["*", "http://app.example.com", "https://*.example.com", "https://app.example.com/", "https://app.example.com/path"])(
    "refuses the CORS origin %s",
    (origin) => {
      expect(() => validateStorageArgs({ ...baseArgs(), corsOrigins: [origin] })).toThrow(
        `Storage: CORS origin "${origin}" is not https://<host> without path or wildcard, such as https://app.example.com.`,
      );
    },
  );

  it("refuses lifecycle days below 1", () => {
    expect(() => validateStorageArgs({ ...baseArgs(), noncurrentVersionDays: 0 })).toThrow(
      "Storage: noncurrentVersionDays is 0; keep previous versions at least 1 day.",
    );
    expect(() => validateStorageArgs({ ...baseArgs(), abortIncompleteUploadDays: 0.5 })).toThrow(
      "Storage: abortIncompleteUploadDays is 0.5; use a whole number of days, at least 1.",
    );
  });

  it("builds the TLS-only policy for a bucket ARN", () => {
    const policy = JSON.parse(tlsOnlyPolicy("arn:aws:s3:::b")) as { Statement: { Resource: string[] }[] };
    expect(policy.Statement[0]?.Resource).toEqual(["arn:aws:s3:::b", "arn:aws:s3:::b/*"]);
  });
});
