import { validateResourceOfType } from "@pulumi/policy";
import { Cluster } from "@pulumi/aws/eks/cluster";
import type { RunbookResourcePolicy } from "../../../lib/policy";

/**
 * `aws-eks-cluster-secrets-encryption`: Kubernetes Secrets (DATABASE_URL, REDIS_URL) are
 * envelope-encrypted in etcd with a KMS key. Severity high. Protects the database and cache
 * credentials the API and worker read.
 */
export const awsEksClusterSecretsEncryption: RunbookResourcePolicy = {
  name: "aws-eks-cluster-secrets-encryption",
  description: "EKS clusters encrypt Kubernetes Secrets with a KMS key (encryptionConfig for resources [\"secrets\"]).",
  severity: "high",
  runbookLine: "Deployment topology: Backend API: stateless Node.js service (its DATABASE_URL and REDIS_URL)",
  remediationSteps: "Set encryptionConfig: { provider: { keyArn }, resources: [\"secrets\"] } on the cluster (components/cluster/eks.ts does).",
  validateResource: validateResourceOfType(Cluster, (cluster, _args, reportViolation) => {
    const config = cluster.encryptionConfig;
    if (!config?.resources?.includes("secrets")) {
      reportViolation(`encryptionConfig.resources is ${JSON.stringify(config?.resources ?? "not set")}; Kubernetes Secrets must be envelope-encrypted with a KMS key.`);
    } else if (!config.provider?.keyArn) {
      reportViolation("encryptionConfig has no provider.keyArn; name the KMS key that encrypts Kubernetes Secrets.");
    }
  }),
};
