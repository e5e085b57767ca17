import { describe, expect, it } from "vitest";
import { awsS3BucketEncrypted as policy } from "../../../../../policies/aws/s3/bucket/encryption";
import { fixture, named, run, violation } from "../../../fixture";

const MESSAGE = "storage-bucket: no server-side encryption configuration with a default algorithm (AES256, aws:kms, aws:kms:dsse).";

describe("aws-s3-bucket-encrypted", () => {
  it("passes the happy path, and AES256 too", async () => {
    expect(await run(policy, fixture())).toEqual([]);
    const plan = fixture();
    named(plan, "storage-encryption").inputs.rules = [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }];
    expect(await run(policy, plan)).toEqual([]);
  });
  it("flags a bucket without an encryption configuration", async () => {
    expect(await run(policy, fixture().filter((r) => r.name !== "storage-encryption"))).toEqual([violation(policy, "storage-bucket", MESSAGE)]);
  });
  it("flags a configuration without a default algorithm", async () => {
    const plan = fixture();
    named(plan, "storage-encryption").inputs.rules = [{ bucketKeyEnabled: true }];
    expect(await run(policy, plan)).toEqual([violation(policy, "storage-bucket", MESSAGE)]);
  });
});
