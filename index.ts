import { loadConfig, type PlatformConfig } from "./config";
import { Cluster, lookupCluster, type NewClusterSettings } from "./components/cluster";
import { Addons } from "./components/cluster/addons";
import { Network } from "./components/network";
import { Database } from "./components/database";
import { Storage } from "./components/storage";
import { Cache } from "./components/cache";
import { Frontend } from "./components/frontend";
import { Services } from "./components/services";
import { artifactRef, PromotionRecords } from "./components/promotion";
import { ARTIFACT_OUTPUT, VERIFIED_OUTPUT } from "./ops/promotion/artifact";
import { Alarms, cacheMemberClusterIds } from "./components/alarms";
import { Repository } from "./components/repository";
import { Certificates, Records } from "./components/dns";
import { LogRouter } from "./components/logRouter";
import { RestoreDrill } from "./components/restoreDrill";
import { drillValidationSecurityGroup } from "./components/drillValidation";
import { defaultTags, physicalName, type StackIdentity } from "./components/naming";
import * as awsProviderSettings from "@pulumi/aws/config";

/**
 * The composition root: validates the stack's settings (nothing is registered if they are bad),
 * builds the components in dependency order and returns the stack outputs.
 */
export = async () => {
  const config = loadConfig();
  // The stack's name keeps physical names apart; its declared environment picks the rules.
  const stack: StackIdentity = { name: config.stack, environment: config.environment, namePrefix: config.namePrefix };
  const tags = defaultTags(stack);
  // An existing cluster is looked up before anything is registered: a name that finds nothing stops here.
  const found =
    config.cluster.mode === "existing"
      ? await lookupCluster({ stack, region: config.region, name: config.cluster.name as string, dataSubnetIds: config.network.dataSubnetIds })
      : undefined;
  // "Promote same artifact to production": each stack runs the artifact its stack file pins; production's
  // must be one staging passed its smoke checks with. Checked first, so a bad artifact stops the run
  // before anything else is registered.
  const image = await artifactRef(config.image);
  const promotionRecords = config.image.smokeRecords
    ? new PromotionRecords("promotion-records", { stack, repository: config.image.repository, tags })
    : undefined;

  const cluster = new Cluster("cluster", {
    stack,
    region: config.region,
    existing: found,
    create: found ? undefined : newClusterSettings(config, stack),
    kubeconfig: config.kubeconfig,
    tags,
  });
  const addons = new Addons("cluster-addons", {
    stack,
    region: config.region,
    clusterName: cluster.clusterName,
    vpcId: cluster.vpcId,
    oidcProviderArn: cluster.oidcProviderArn,
    oidcIssuer: cluster.oidcIssuer,
    provider: cluster.provider,
    ...config.cluster.addons,
    tags,
  });
  // The restore drill's validation function gets its group first, so the database's group can admit it.
  const drillValidationSg = config.drill.enabled
    ? drillValidationSecurityGroup("database-restore-drill-validation-sg", { stack, vpcId: cluster.vpcId, tags })
    : undefined;
  const network = new Network("network", {
    stack,
    vpcId: cluster.vpcId,
    clusterSecurityGroupId: cluster.securityGroupId,
    ...(drillValidationSg ? { databaseClientSecurityGroupIds: [drillValidationSg.id] } : {}),
    tags,
  });
  const database = new Database("database", {
    stack,
    ...config.database,
    // "Keep PITR enabled" in every stack; production also keeps a final snapshot on deletion.
    skipFinalSnapshot: config.environment !== "production",
    subnetIds: cluster.dataSubnetIds,
    securityGroupId: network.databaseSecurityGroupId,
    backup: config.backup,
    tags,
  });
  const storage = new Storage("storage", {
    stack,
    ...config.storage,
    corsOrigins: config.frontend.domain ? [`https://${config.frontend.domain}`] : [],
    tags,
  });
  const cache = new Cache("cache", {
    stack,
    ...config.cache,
    subnetIds: cluster.dataSubnetIds,
    securityGroupId: network.cacheSecurityGroupId,
    tags,
  });

  // "Every hostname resolves": with dns.zone the program issues the certificates (here, before the
  // distribution and the Ingress that use them) and writes the records (below, once both exist).
  const certificates = config.dns.zone
    ? new Certificates("dns-certificates", {
        stack,
        region: config.region,
        zone: config.dns.zone,
        frontendDomain: config.frontend.domain,
        apiHost: config.services.ingress.host,
        tags,
      })
    : undefined;
  const frontend = new Frontend("frontend", {
    stack,
    ...config.frontend,
    certificateArn: certificates?.frontendCertificateArn ?? config.frontend.certificateArn,
    tags,
  });

  const services = new Services("services", {
    stack,
    appName: config.appName,
    region: config.region,
    provider: cluster.provider,
    ...config.services,
    // config.ts requires services.ingress.certificateArn whenever dns.zone is unset.
    ingress: { host: config.services.ingress.host, certificateArn: certificates?.apiCertificateArn ?? (config.services.ingress.certificateArn as string) },
    irsa: { oidcProviderArn: cluster.oidcProviderArn, oidcIssuer: cluster.oidcIssuer },
    ingressClassName: addons.ingressClassName,
    publicSubnetIds: cluster.publicSubnetIds,
    networkRanges: { vpcCidr: cluster.vpcCidr, nodeCidrs: cluster.nodeCidrs, dataSubnetCidrs: cluster.dataSubnetCidrs },
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
    stack,
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

  // "The logs reach the alarms": Fluent Bit ships each workload's container output to the log group
  // its metric filters read (the container is named after its workload).
  const logRouter = new LogRouter("log-router", {
    stack,
    region: config.region,
    provider: cluster.provider,
    oidcProviderArn: cluster.oidcProviderArn,
    oidcIssuer: cluster.oidcIssuer,
    nodeCidrs: cluster.nodeCidrs,
    routes: (["api", "worker"] as const).map((workload) => ({
      key: workload,
      namespace: services.namespace,
      container: workload,
      logGroupName: workload === "api" ? alarms.apiLogGroupName : alarms.workerLogGroupName,
      logGroupArn: workload === "api" ? alarms.apiLogGroupArn : alarms.workerLogGroupArn,
    })),
    tags,
  });

  const records = certificates
    ? new Records("dns-records", {
        zoneId: certificates.zoneId,
        region: config.region,
        frontend: config.frontend.domain ? { domain: config.frontend.domain, distributionDomainName: frontend.distributionDomainName } : undefined,
        api: { host: config.services.ingress.host, loadBalancerHostname: services.apiLoadBalancerHostname },
      })
    : undefined;

  // "Weekly restore test": AWS Backup restore testing every week, validated by the in-VPC function,
  // and the deploy-time drill, replaced each ISO week; a failed drill or a missed RTO pages.
  // The drill's AWS calls use the stack's AWS provider settings, so they act in the stack's account.
  const assumeRole = awsProviderSettings.assumeRoles?.[0];
  const restoreDrill = drillValidationSg
    ? new RestoreDrill(
        "database-restore-drill",
        {
          stack,
          aws: {
            region: config.region,
            ...(awsProviderSettings.profile ? { profile: awsProviderSettings.profile } : {}),
            ...(assumeRole?.roleArn
              ? { assumeRole: { roleArn: assumeRole.roleArn, externalId: assumeRole.externalId, sessionName: assumeRole.sessionName } }
              : {}),
          },
          source: {
            identifier: database.identifier,
            arn: database.arn,
            address: database.address,
            port: database.port,
            subnetGroupName: database.subnetGroupName,
            securityGroupId: database.securityGroupId,
            databaseName: database.databaseName,
            masterUsername: config.database.masterUsername,
            masterUserSecretArn: database.masterUserSecretArn,
            kmsKeyArn: database.kmsKeyArn,
            backupVaultArn: database.backupVaultArn,
          },
          // The validation function calls AWS APIs too: the node subnets have a NAT route, the isolated
          // data-tier subnets of a created VPC have none. Same VPC, so it still reaches the database.
          functionSubnetIds: cluster.privateSubnetIds,
          mode: config.drill.mode,
          rtoTargetSeconds: config.drill.rtoTargetSeconds,
          expectedTables: config.drill.expectedTables,
          rowCountTolerancePercent: config.drill.rowCountTolerancePercent,
          recordRetentionDays: config.drill.recordRetentionDays,
          validationSecurityGroupId: drillValidationSg.id,
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
    ...(promotionRecords
      ? { promotionRecordsBucket: promotionRecords.bucketName, [VERIFIED_OUTPUT]: promotionRecords.verifiedImageRefs }
      : {}),
    ...(restoreDrill
      ? {
          restoreDrillRecordsBucket: restoreDrill.recordsBucketName,
          restoreDrillWindow: restoreDrill.window,
          restoreDrillPassed: restoreDrill.passed,
          restoreDrillRtoSeconds: restoreDrill.rtoSeconds,
          restoreDrillValidationFunction: restoreDrill.validationFunctionName,
          restoreTestingPlanName: restoreDrill.restoreTestingPlanName,
          restoreDrillRunnerPolicyArn: restoreDrill.runnerPolicyArn,
        }
      : {}),
    clusterName: cluster.clusterName,
    clusterEndpoint: cluster.endpoint,
    clusterSecurityGroupId: cluster.securityGroupId,
    oidcProviderArn: cluster.oidcProviderArn,
    oidcIssuer: cluster.oidcIssuer,
    vpcId: cluster.vpcId,
    vpcCidr: cluster.vpcCidr,
    privateSubnetIds: cluster.privateSubnetIds,
    dataSubnetIds: cluster.dataSubnetIds,
    publicSubnetIds: cluster.publicSubnetIds,
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
    // The artifact this stack runs; `npm run promote` reads staging's.
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
    logRoutes: logRouter.routes,
    ...(records ? { dnsRecords: records.hostnames } : {}),
  };
};

/** `cluster.mode create`'s settings, complete (config.ts has refused a create stack missing any of them). */
function newClusterSettings(config: PlatformConfig, stack: StackIdentity): NewClusterSettings {
  const { cluster, network, delivery } = config;
  return {
    name: cluster.name ?? physicalName(stack, "eks", "eks"),
    version: cluster.version as string,
    vpcCidr: network.vpcCidr as string,
    availabilityZoneCount: network.availabilityZoneCount as number,
    // One NAT gateway per zone in production (a zone outage keeps the others' egress), one shared elsewhere.
    natGatewayPerZone: config.environment === "production",
    publicAccessCidrs: cluster.publicAccessCidrs ?? [],
    nodeGroup: cluster.nodeGroup as NewClusterSettings["nodeGroup"],
    // The deploy role (Pulumi Deployments) first: it runs every later `pulumi up`.
    accessRoleArns: [...(delivery.awsRoleArn ? [delivery.awsRoleArn] : []), ...cluster.adminRoleArns],
  };
}
