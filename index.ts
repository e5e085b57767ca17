import { loadConfig } from "./config";
import { Network } from "./components/network";
import { Database } from "./components/database";
import { Storage } from "./components/storage";
import { Cache } from "./components/cache";
import { Frontend } from "./components/frontend";
import { Services } from "./components/services";
import { ARTIFACT_OUTPUT, artifactRef } from "./components/promotion";
import { Alarms, cacheMemberClusterIds } from "./components/alarms";
import { Repository } from "./components/repository";
import { RestoreDrill } from "./components/restoreDrill";
import { defaultTags } from "./components/naming";

/**
 * The composition root: validates the stack's settings (nothing is registered if they are bad),
 * builds the components in dependency order and returns the stack outputs.
 */
export = async () => {
  const config = loadConfig();
  const tags = defaultTags(config.stack);
  // "Promote same artifact to production": staging pins its image; production runs staging's. Resolved
  // first, so an artifact that is not pinned by digest stops the run before anything else is registered.
  const image = await artifactRef(config.image);

  const network = new Network("network", { stack: config.stack, ...config.network, tags });
  const database = new Database("database", {
    stack: config.stack,
    ...config.database,
    // "Keep PITR enabled" in every stack; production also keeps a final snapshot on deletion.
    skipFinalSnapshot: config.stack !== "production",
    subnetIds: network.privateSubnetIds,
    securityGroupId: network.databaseSecurityGroupId,
    backup: config.backup,
    tags,
  });
  const storage = new Storage("storage", {
    stack: config.stack,
    ...config.storage,
    corsOrigins: config.frontend.domain ? [`https://${config.frontend.domain}`] : [],
    tags,
  });
  const cache = new Cache("cache", {
    stack: config.stack,
    ...config.cache,
    subnetIds: network.privateSubnetIds,
    securityGroupId: network.cacheSecurityGroupId,
    tags,
  });

  const frontend = new Frontend("frontend", { stack: config.stack, ...config.frontend, tags });

  const services = new Services("services", {
    stack: config.stack,
    region: config.region,
    kubeconfig: config.kubeconfig,
    ...config.services,
    image,
    databaseUrl: database.connectionString,
    databaseConnectArn: database.iamConnectArn,
    redisUrl: cache.redisUrl,
    uploadsBucketName: storage.bucketName,
    uploadsBucketArn: storage.bucketArn,
    tags,
  });

  // "Alerts and on-call thresholds": the six runbook alarms and what the incident steps check.
  const alarms = new Alarms("alarms", {
    stack: config.stack,
    region: config.region,
    ...config.alarms,
    pageHttpsEndpoint: config.pageHttpsEndpoint,
    apiHost: config.services.ingress.host,
    dbInstanceIdentifier: database.identifier,
    maxConnections: database.maxConnections,
    allocatedStorageGb: config.database.allocatedStorageGb,
    cacheMemberClusterIds: cacheMemberClusterIds(cache.replicationGroupId, config.cache.nodeCount),
    tags,
  });

  // "Weekly restore test": a child of the database it drills, replaced each ISO week so the next
  // weekly `pulumi up` restores, checks and records again; a failed drill or a missed RTO pages.
  const restoreDrill = config.drill.enabled
    ? new RestoreDrill(
        "database-restore-drill",
        {
          stack: config.stack,
          region: config.region,
          source: {
            identifier: database.identifier,
            subnetGroupName: database.subnetGroupName,
            securityGroupIds: [database.securityGroupId],
            databaseName: database.databaseName,
            kmsKeyArn: database.kmsKeyArn,
          },
          mode: config.drill.mode,
          rtoTargetSeconds: config.drill.rtoTargetSeconds,
          expectedTables: config.drill.expectedTables,
          rowCountTolerancePercent: config.drill.rowCountTolerancePercent,
          recordRetentionDays: config.drill.recordRetentionDays,
          pageTopicArn: alarms.pageTopicArn,
          tags,
        },
        { parent: database, dependsOn: [database] },
      )
    : undefined;

  // One branch rule, one owner: only the stack with repository.manageBranchProtection manages it,
  // or both stacks would overwrite each other's settings on every `pulumi up`.
  const { manageBranchProtection, ...repositorySettings } = config.repository;
  const repository = manageBranchProtection
    ? new Repository("repository", { ...repositorySettings, githubToken: config.githubToken })
    : undefined;

  return {
    ...(repository ? { protectedBranch: repository.protectedBranch } : {}),
    ...(restoreDrill
      ? {
          restoreDrillRecordsBucket: restoreDrill.recordsBucketName,
          restoreDrillWindow: restoreDrill.window,
          restoreDrillPassed: restoreDrill.passed,
          restoreDrillRtoSeconds: restoreDrill.rtoSeconds,
        }
      : {}),
    vpcId: network.vpcId,
    privateSubnetIds: network.privateSubnetIds,
    databaseSecurityGroupId: network.databaseSecurityGroupId,
    cacheSecurityGroupId: network.cacheSecurityGroupId,
    databaseIdentifier: database.identifier,
    databaseArn: database.arn,
    databaseAddress: database.address,
    databasePort: database.port,
    databaseResourceId: database.resourceId,
    databaseName: database.databaseName,
    databaseMasterUserSecretArn: database.masterUserSecretArn,
    databaseKmsKeyArn: database.kmsKeyArn,
    databaseMaxConnections: database.maxConnections,
    databaseIamUsername: database.iamUsername,
    databaseIamConnectArn: database.iamConnectArn,
    databaseUrl: database.connectionString,
    backupVaultName: database.backupVaultName,
    uploadsBucketName: storage.bucketName,
    uploadsBucketArn: storage.bucketArn,
    cachePrimaryEndpoint: cache.primaryEndpoint,
    cachePort: cache.port,
    redisUrl: cache.redisUrl,
    frontendBucketName: frontend.bucketName,
    frontendDistributionId: frontend.distributionId,
    frontendDistributionDomain: frontend.distributionDomainName,
    frontendUrl: frontend.url,
    apiUrl: services.apiUrl,
    servicesNamespace: services.namespace,
    appRoleArn: services.roleArn,
    // Production's StackReference reads this: the artifact this stack runs.
    [ARTIFACT_OUTPUT]: services.image,
    pageTopicArn: alarms.pageTopicArn,
    healthPageTopicArn: alarms.healthPageTopicArn,
    ticketTopicArn: alarms.ticketTopicArn,
    apiLogGroupName: alarms.apiLogGroupName,
    workerLogGroupName: alarms.workerLogGroupName,
    healthCheckId: alarms.healthCheckId,
    incidentDashboardName: alarms.dashboardName,
    requestIdQueryName: alarms.requestIdQueryName,
    alarmNames: alarms.alarmNames,
  };
};
