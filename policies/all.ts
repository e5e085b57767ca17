import { awsCloudfrontDistributionHttpsOnly } from "./aws/cloudfront/distribution/httpsOnly";
import { awsCloudfrontDistributionOriginAccessControl } from "./aws/cloudfront/distribution/originAccessControl";
import { awsStatefulResourceProtected } from "./aws/protection/statefulProtected";
import { awsCloudwatchRunbookAlarms } from "./aws/cloudwatch/metricAlarm/runbookAlarms";
import {
  awsElasticacheReplicationGroupAtRestEncryption,
  awsElasticacheReplicationGroupAuth,
  awsElasticacheReplicationGroupTransitEncryption,
} from "./aws/elasticache/replicationGroup/encryption";
import { awsEc2SecurityGroupDataTierNotOpen, awsEc2SecurityGroupDataTierWithinVpc } from "./aws/ec2/securityGroup/dataTierIngress";
import { awsEksClusterPublicEndpointRestricted } from "./aws/eks/cluster/publicEndpoint";
import { awsEksClusterSecretsEncryption } from "./aws/eks/cluster/secretsEncryption";
import { awsElasticacheReplicationGroupNonEvicting } from "./aws/elasticache/replicationGroup/nonEvicting";
import { awsRdsInstanceBackupEnabled, awsRdsInstanceBackupRetention } from "./aws/rds/instance/backupRetention";
import { awsRdsInstanceDailyBackupPlan } from "./aws/rds/instance/dailyBackupPlan";
import { awsRdsInstanceDeletionProtection } from "./aws/rds/instance/deletionProtection";
import { awsRdsInstanceNotPublic } from "./aws/rds/instance/publiclyAccessible";
import { awsRdsInstanceStorageEncrypted } from "./aws/rds/instance/storageEncrypted";
import { awsS3BucketEncrypted } from "./aws/s3/bucket/encryption";
import { awsS3BucketPublicAccessBlocked } from "./aws/s3/bucket/publicAccessBlock";
import { awsS3BucketTlsOnly } from "./aws/s3/bucket/tlsOnly";
import {
  githubBranchProtectionApprovals,
  githubBranchProtectionMainPresent,
  githubBranchProtectionReviewsRequired,
  githubBranchProtectionStatusChecks,
} from "./github/branchProtection/mainProtected";
import { kubernetesDeploymentImageDigest } from "./kubernetes/apps/v1/deployment/imageDigest";
import { kubernetesDeploymentNonRoot } from "./kubernetes/apps/v1/deployment/nonRoot";
import { kubernetesDeploymentLivenessProbe, kubernetesDeploymentReadinessProbe } from "./kubernetes/apps/v1/deployment/probes";
import { kubernetesDeploymentResources } from "./kubernetes/apps/v1/deployment/resources";
import { kubernetesNamespaceDefaultDeny } from "./kubernetes/networking/v1/networkPolicy/defaultDeny";
import type { RunbookPolicy } from "./lib/policy";
import { noPlainSecrets } from "./secrets/plainSecrets";

/**
 * Every rule of the pack, in one list: index.ts serves it through CrossGuard, evaluate.ts runs it
 * in-process for the offline preview and the tests.
 */
export const RUNBOOK_POLICIES: readonly RunbookPolicy[] = [
  awsRdsInstanceBackupEnabled,
  awsRdsInstanceBackupRetention,
  awsRdsInstanceDailyBackupPlan,
  awsRdsInstanceStorageEncrypted,
  awsRdsInstanceNotPublic,
  awsRdsInstanceDeletionProtection,
  awsStatefulResourceProtected,
  awsS3BucketPublicAccessBlocked,
  awsS3BucketEncrypted,
  awsS3BucketTlsOnly,
  awsElasticacheReplicationGroupTransitEncryption,
  awsElasticacheReplicationGroupAtRestEncryption,
  awsElasticacheReplicationGroupAuth,
  awsElasticacheReplicationGroupNonEvicting,
  awsEc2SecurityGroupDataTierNotOpen,
  awsEc2SecurityGroupDataTierWithinVpc,
  awsEksClusterSecretsEncryption,
  awsEksClusterPublicEndpointRestricted,
  awsCloudfrontDistributionHttpsOnly,
  awsCloudfrontDistributionOriginAccessControl,
  awsCloudwatchRunbookAlarms,
  kubernetesDeploymentReadinessProbe,
  kubernetesDeploymentLivenessProbe,
  kubernetesDeploymentResources,
  kubernetesDeploymentNonRoot,
  kubernetesDeploymentImageDigest,
  kubernetesNamespaceDefaultDeny,
  githubBranchProtectionMainPresent,
  githubBranchProtectionReviewsRequired,
  githubBranchProtectionApprovals,
  githubBranchProtectionStatusChecks,
  noPlainSecrets,
];

/** The pack's name, as published (`pulumi policy publish`) and referenced by the PolicyGroup. */
export const POLICY_PACK_NAME = "runbook-platform";

/** Every policy is mandatory unless the pack's config lowers it (`{"all": "advisory"}` or per policy). */
export const DEFAULT_ENFORCEMENT_LEVEL = "mandatory" as const;
