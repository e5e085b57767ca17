import * as pulumi from "@pulumi/pulumi";
import * as iam from "@pulumi/aws/iam";
import * as apps from "@pulumi/kubernetes/apps/v1";
import * as autoscaling from "@pulumi/kubernetes/autoscaling/v2";
import * as core from "@pulumi/kubernetes/core/v1";
import * as networking from "@pulumi/kubernetes/networking/v1";
import * as policy from "@pulumi/kubernetes/policy/v1";
import type { Provider } from "@pulumi/kubernetes/provider";
import { POSTGRES_PORT, REDIS_PORT } from "../network";
import { NETWORK_POLICY_NAMES, networkPolicies } from "./networkPolicies";
import { physicalName, type StackIdentity } from "../naming";
import { assertNoProblems } from "../problems";
import {
  appPolicy,
  type ContainerResources,
  HTTP_PORT_NAME,
  ingressAnnotations,
  irsaTrustPolicy,
  podTemplate,
  replicaProblems,
  ROLLING_UPDATE,
  selectorLabels,
  SERVICE_PORT,
  type Workload,
  workloadLabels,
} from "./workloads";

export type { ContainerResources } from "./workloads";

export interface ServicesArgs {
  /** Stack the services belong to; part of every physical name. */
  stack: StackIdentity;
  /**
   * The application's name (config `appName`): one name for the service account, Secret and
   * ConfigMap both workloads share, and the service account IRSA trusts. Changing it replaces them.
   */
  appName: string;
  /** The stack's AWS region, handed to the application as AWS_REGION. */
  region: string;
  /** The cluster's Kubernetes provider (Cluster.provider): every object goes to that cluster. */
  provider: Provider;
  /** Namespace created for the API and worker. Changing it replaces every object in it. */
  namespace: string;
  /** Port both processes listen on ($PORT), health endpoints included. */
  port: number;
  /** API pods at rest; the HorizontalPodAutoscaler's minimum. */
  apiReplicas: number;
  /** The HorizontalPodAutoscaler's maximum. */
  apiMaxReplicas: number;
  /** Worker pods (0 only outside production). */
  workerReplicas: number;
  /** Requests and limits of each API container; the autoscaler's CPU target is a share of the request. */
  apiResources: ContainerResources;
  /** Requests and limits of each worker container. */
  workerResources: ContainerResources;
  /** Public host name of the API and its ACM certificate in the stack's region. */
  ingress: { host: string; certificateArn: pulumi.Input<string> };
  /** The cluster's IAM OIDC provider, which IRSA trusts, and its issuer without https:// (from Cluster). */
  irsa: { oidcProviderArn: pulumi.Input<string>; oidcIssuer: pulumi.Input<string> };
  /** The IngressClass the cluster's load balancer controller serves (Addons.ingressClassName). */
  ingressClassName: pulumi.Input<string>;
  /** Subnets of the internet-facing ALB: the cluster's public subnets (tagged kubernetes.io/role/elb). */
  publicSubnetIds: pulumi.Input<string[]>;
  /**
   * Ranges the NetworkPolicies name (see networkPolicies()): the VPC (ALB ip targets), the node
   * subnets (kubelet probes) and the data tier's subnets (PostgreSQL and Redis).
   */
  networkRanges: { vpcCidr: pulumi.Input<string>; nodeCidrs: pulumi.Input<string[]>; dataSubnetCidrs: pulumi.Input<string[]> };
  /** The artifact both workloads run, pinned by digest (see promotion.ts). */
  image: pulumi.Input<string>;
  /** PostgreSQL connection URL (secret). */
  databaseUrl: pulumi.Input<string>;
  /** `rediss://` URL with credentials (secret): replay protection and rate limits need TLS and auth. */
  redisUrl: pulumi.Input<string>;
  /** The uploads bucket, handed to the application as S3_BUCKET. */
  uploadsBucketName: pulumi.Input<string>;
  /** The uploads bucket's ARN: the only bucket the IRSA role may touch. */
  uploadsBucketArn: pulumi.Input<string>;
  /** `rds-db:connect` resource ARN when the database uses IAM authentication. */
  databaseConnectArn?: pulumi.Input<string>;
  /**
   * Average CPU utilisation (percent of requests) the autoscaler holds the API at.
   * @default 70
   */
  cpuTargetPercent?: number;
  /**
   * Non-root user and group the containers run as.
   * @default 1000 (the `node` user of the official Node.js images)
   */
  runAsUser?: number;
  /** Tags for every taggable AWS child. */
  tags: Record<string, string>;
}

/** Throws a fixable message when the args cannot make a highly available, least-privilege service. */
export function validateServicesArgs(args: Pick<ServicesArgs, "stack" | "apiReplicas" | "apiMaxReplicas" | "workerReplicas" | "runAsUser">): void {
  assertNoProblems("Services", replicaProblems({ environment: args.stack.environment, apiReplicas: args.apiReplicas, apiMaxReplicas: args.apiMaxReplicas, workerReplicas: args.workerReplicas }));
  if ((args.runAsUser ?? 1000) === 0) throw new Error("Services: runAsUser is 0 (root); use a non-root uid.");
}

/** Refuses a Redis URL without TLS or credentials, without ever echoing it (it is a secret). */
export function requireSecureRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error("Services: redisUrl is not a URL; expected rediss://:<token>@<host>:<port>.");
  }
  if (parsed.protocol !== "rediss:") throw new Error(`Services: redisUrl uses ${parsed.protocol}//; expected rediss:// (TLS).`);
  if (!parsed.password) throw new Error("Services: redisUrl has no credentials; expected rediss://:<token>@<host>:<port> (AUTH).");
  return url;
}

/**
 * "Backend API: stateless Node.js service" and "Worker: dedicated `npm run worker` process" on
 * Kubernetes: one namespace, one IRSA service account, one Secret and ConfigMap, and two hardened
 * Deployments of the same image.
 */
export class Services extends pulumi.ComponentResource {
  /** The namespace both workloads run in. */
  public readonly namespace: pulumi.Output<string>;
  /** The IAM role the pods assume through IRSA. */
  public readonly roleArn: pulumi.Output<string>;
  /** The image both Deployments run. */
  public readonly image: pulumi.Output<string>;
  /** `https://<ingress host>`: what the staging smoke check and the health alarms call. */
  public readonly apiUrl: pulumi.Output<string>;
  /** For `kubectl rollout status` and rollbacks ("Check latest deploy and rollback if needed"). */
  public readonly apiDeploymentName: pulumi.Output<string>;
  public readonly workerDeploymentName: pulumi.Output<string>;
  /** The ALB the load balancer controller made for the Ingress (its status hostname): the API host's alias target. */
  public readonly apiLoadBalancerHostname: pulumi.Output<string>;

  constructor(name: string, args: ServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook-platform:services:Services", name, {}, opts);
    validateServicesArgs(args);
    const { stack, namespace, appName } = args;
    const cpuTargetPercent = args.cpuTargetPercent ?? 70;
    const runAsUser = args.runAsUser ?? 1000;

    const k8sOpts = { parent: this, provider: args.provider };
    const meta = (objectName: string, workload?: Workload) => ({
      name: objectName,
      namespace,
      labels: workload ? workloadLabels(workload, stack.name) : { "app.kubernetes.io/part-of": "runbook-platform", "app.kubernetes.io/instance": stack.name },
    });

    const ns = new core.Namespace(
      `${name}-namespace`,
      // The restricted Pod Security Standard rejects any pod that drops the hardening below.
      { metadata: { name: namespace, labels: { "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "restricted" } } },
      k8sOpts,
    );
    const nsOpts = { ...k8sOpts, dependsOn: [ns] };

    const role = new iam.Role(
      `${name}-irsa`,
      {
        name: physicalName(stack, "app-irsa", "iam"),
        description: `API and worker pods (${namespace}/${appName}) through IRSA`,
        assumeRolePolicy: pulumi
          .all([args.irsa.oidcProviderArn, args.irsa.oidcIssuer])
          .apply(([providerArn, issuer]) => irsaTrustPolicy(providerArn, issuer, namespace, appName)),
        maxSessionDuration: 3600,
        tags: args.tags,
      },
      { parent: this },
    );
    new iam.RolePolicy(
      `${name}-irsa-policy`,
      {
        role: role.id,
        policy: pulumi.all([args.uploadsBucketArn, args.databaseConnectArn]).apply(([bucketArn, connectArn]) => appPolicy(bucketArn, connectArn)),
      },
      { parent: this },
    );
    new core.ServiceAccount(
      `${name}-service-account`,
      {
        metadata: { ...meta(appName), annotations: { "eks.amazonaws.com/role-arn": role.arn, "eks.amazonaws.com/sts-regional-endpoints": "true" } },
        automountServiceAccountToken: false,
      },
      nsOpts,
    );
    new core.Secret(
      `${name}-secret`,
      {
        metadata: meta(appName),
        type: "Opaque",
        stringData: {
          DATABASE_URL: pulumi.secret(args.databaseUrl),
          REDIS_URL: pulumi.secret(pulumi.output(args.redisUrl).apply(requireSecureRedisUrl)),
        },
      },
      nsOpts,
    );
    new core.ConfigMap(
      `${name}-config`,
      {
        metadata: meta(appName),
        data: {
          NODE_ENV: "production",
          APP_ENV: stack.environment,
          PORT: String(args.port),
          AWS_REGION: args.region,
          S3_BUCKET: args.uploadsBucketName,
        },
      },
      nsOpts,
    );

    // Default deny in both directions, then exactly what each workload needs.
    const ranges = args.networkRanges;
    const policies = pulumi
      .all([ranges.vpcCidr, ranges.nodeCidrs, ranges.dataSubnetCidrs])
      .apply(([vpcCidr, nodeCidrs, dataSubnetCidrs]) => networkPolicies({ port: args.port, vpcCidr, nodeCidrs, dataSubnetCidrs, dataPorts: [POSTGRES_PORT, REDIS_PORT] }));
    for (const policyName of NETWORK_POLICY_NAMES) {
      new networking.NetworkPolicy(`${name}-${policyName}`, { metadata: meta(policyName), spec: policies.apply((all) => all[policyName]) }, nsOpts);
    }

    this.image = pulumi.output(args.image);
    const deployment = (workload: Workload, replicas: number, resources: ContainerResources, deploymentOpts: pulumi.CustomResourceOptions) =>
      new apps.Deployment(
        `${name}-${workload}`,
        {
          metadata: meta(workload, workload),
          spec: {
            replicas,
            revisionHistoryLimit: 10,
            selector: { matchLabels: selectorLabels(workload) },
            strategy: ROLLING_UPDATE,
            template: podTemplate({
              workload,
              stack: stack.name,
              image: this.image,
              port: args.port,
              resources,
              serviceAccountName: appName,
              configMapName: appName,
              secretName: appName,
              runAsUser,
              zoneSpread: stack.environment === "production" ? "DoNotSchedule" : "ScheduleAnyway",
            }),
          },
        },
        deploymentOpts,
      );

    // The autoscaler owns the replica count once the Deployment exists; `up` must not reset it.
    const api = deployment("api", args.apiReplicas, args.apiResources, { ...nsOpts, ignoreChanges: ["spec.replicas"] });
    const service = new core.Service(
      `${name}-api-service`,
      {
        metadata: meta("api", "api"),
        spec: { type: "ClusterIP", selector: selectorLabels("api"), ports: [{ name: HTTP_PORT_NAME, port: SERVICE_PORT, targetPort: HTTP_PORT_NAME, protocol: "TCP" }] },
      },
      nsOpts,
    );
    const ingress = new networking.Ingress(
      `${name}-api-ingress`,
      {
        metadata: { ...meta("api", "api"), annotations: pulumi.all([args.ingress.certificateArn, args.publicSubnetIds]).apply(([certificateArn, subnetIds]) => ingressAnnotations(certificateArn, subnetIds)) },
        spec: {
          ingressClassName: args.ingressClassName,
          rules: [
            {
              host: args.ingress.host,
              http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: service.metadata.name, port: { name: HTTP_PORT_NAME } } } }] },
            },
          ],
        },
      },
      nsOpts,
    );
    new autoscaling.HorizontalPodAutoscaler(
      `${name}-api-hpa`,
      {
        metadata: meta("api", "api"),
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: api.metadata.name },
          minReplicas: args.apiReplicas,
          maxReplicas: args.apiMaxReplicas,
          metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: cpuTargetPercent } } }],
        },
      },
      nsOpts,
    );

    const worker = deployment("worker", args.workerReplicas, args.workerResources, nsOpts);

    // maxUnavailable 1 rather than minAvailable 1: a single-replica workload never blocks a node drain,
    // and with two or more replicas a voluntary eviction still leaves one serving.
    for (const workload of ["api", "worker"] as const) {
      new policy.PodDisruptionBudget(
        `${name}-${workload}-pdb`,
        { metadata: meta(workload, workload), spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(workload) } } },
        nsOpts,
      );
    }

    this.namespace = ns.metadata.name;
    this.roleArn = role.arn;
    this.apiUrl = pulumi.output(`https://${args.ingress.host}`);
    this.apiLoadBalancerHostname = ingress.status.loadBalancer.ingress[0].hostname;
    this.apiDeploymentName = api.metadata.name;
    this.workerDeploymentName = worker.metadata.name;

    this.registerOutputs({
      namespace: this.namespace,
      roleArn: this.roleArn,
      image: this.image,
      apiUrl: this.apiUrl,
      apiLoadBalancerHostname: this.apiLoadBalancerHostname,
      apiDeploymentName: this.apiDeploymentName,
      workerDeploymentName: this.workerDeploymentName,
    });
  }
}
