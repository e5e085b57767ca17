import { describe, expect, it } from "vitest";
import { awsS3BucketTlsOnly as policy, deniesInsecureTransport } from "../../../../../policies/aws/s3/bucket/tlsOnly";
import { fixture, named, run, violation } from "../../../fixture";

const MESSAGE = "storage-bucket: no bucket policy statement denies s3:* when aws:SecureTransport is false.";
const DENY = { Effect: "Deny", Principal: "*", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } };

describe("aws-s3-bucket-tls-only", () => {
  it("passes the happy path", async () => {
    expect(await run(policy, fixture())).toEqual([]);
  });
  it("accepts the statement's equivalent spellings", () => {
    expect(deniesInsecureTransport({ ...DENY, Principal: { AWS: "*" }, Action: ["s3:*"], Condition: { Bool: { "aws:SecureTransport": false } } })).toBe(true);
  });
  it.each([
    ["an Allow", { ...DENY, Effect: "Allow" }],
    ["one principal", { ...DENY, Principal: { AWS: "arn:aws:iam::123456789012:root" } }],
    ["one action", { ...DENY, Action: "s3:GetObject" }],
    ["no condition", { ...DENY, Condition: undefined }],
  ])("flags %s", async (_, statement) => {
    const plan = fixture();
    named(plan, "storage-policy").inputs.policy = JSON.stringify({ Version: "2012-10-17", Statement: [statement] });
    expect(await run(policy, plan)).toEqual([violation(policy, "storage-bucket", MESSAGE)]);
  });
  it("flags a bucket without a policy", async () => {
    expect(await run(policy, fixture().filter((r) => r.name !== "storage-policy"))).toEqual([violation(policy, "storage-bucket", MESSAGE)]);
  });
});
