import { describe, expect, it } from "vitest";
import { awsS3BucketPublicAccessBlocked as policy, PUBLIC_ACCESS_BLOCK_FLAGS } from "../../../../../policies/aws/s3/bucket/publicAccessBlock";
import { fixture, named, run, violation } from "../../../fixture";

describe("aws-s3-bucket-public-access-blocked", () => {
  it("passes the happy path", async () => {
    expect(await run(policy, fixture())).toEqual([]);
  });
  it.each(PUBLIC_ACCESS_BLOCK_FLAGS)("flags %s off", async (flag) => {
    const plan = fixture();
    named(plan, "storage-public-access-block").inputs[flag] = false;
    expect(await run(policy, plan)).toEqual([violation(policy, "storage-bucket", `storage-bucket: the public access block leaves ${flag} off; all four must be true.`)]);
  });
  it("flags a bucket without a public access block", async () => {
    const plan = fixture().filter((r) => r.name !== "storage-public-access-block");
    expect(await run(policy, plan)).toEqual([violation(policy, "storage-bucket", "storage-bucket: no BucketPublicAccessBlock; the bucket's objects could be made public.")]);
  });
  it("does not credit another bucket's block", async () => {
    const plan = fixture();
    const block = named(plan, "storage-public-access-block");
    block.propertyDependencies = {};
    block.inputs.bucket = "some-other-bucket";
    expect(await run(policy, plan)).toEqual([violation(policy, "storage-bucket", "storage-bucket: no BucketPublicAccessBlock; the bucket's objects could be made public.")]);
  });
  it("joins by bucket name when there are no dependencies (stack outputs)", async () => {
    const plan = fixture();
    named(plan, "storage-public-access-block").propertyDependencies = {};
    named(plan, "storage-bucket").inputs.bucket = "runbook-production-uploads-1234";
    expect(await run(policy, plan)).toEqual([]);
  });
});
