import { describe, expect, it } from "vitest";
import { awsEksClusterSecretsEncryption as policy } from "../../../../../policies/aws/eks/cluster/secretsEncryption";
import { fixture, named, run, violation } from "../../../fixture";

const withEncryption = (value: unknown) => {
  const plan = fixture();
  named(plan, "cluster-eks").inputs.encryptionConfig = value;
  return plan;
};

describe("aws-eks-cluster-secrets-encryption", () => {
  it("passes the happy path", async () => {
    expect(await run(policy, fixture())).toEqual([]);
  });
  it.each([
    [undefined, 'encryptionConfig.resources is "not set"; Kubernetes Secrets must be envelope-encrypted with a KMS key.'],
    [{ provider: { keyArn: "arn:aws:kms:eu-west-1:123456789012:key/1111" }, resources: [] }, "encryptionConfig.resources is []; Kubernetes Secrets must be envelope-encrypted with a KMS key."],
    [{ resources: ["secrets"] }, "encryptionConfig has no provider.keyArn; name the KMS key that encrypts Kubernetes Secrets."],
  ])("flags encryptionConfig %j", async (value, message) => {
    expect(await run(policy, withEncryption(value))).toEqual([violation(policy, "cluster-eks", message)]);
  });
});
