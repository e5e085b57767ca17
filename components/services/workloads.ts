import type * as k8s from "@pulumi/kubernetes/types/input";
import { type Environment, HEALTH_PATHS, WORKER_COMMAND } from "../../runbook";
import type { SettingProblem } from "../problems";

/**
 * Pure builders for the API and worker workloads: what the pods look like, how they are probed
 * and how IRSA trusts them. Tested without the Pulumi runtime.
 */

/** CPU and memory requests and limits of one container (Kubernetes quantities). */
export interface ContainerResources {
  cpuRequest: string;
  memoryRequest: string;
  cpuLimit: string;
  memoryLimit: string;
}

export type Workload = "api" | "worker";

/** What the replica rules read; config.ts (per key) and the Services component (up front) share them. */
export interface ReplicaSettings {
  /** The environment whose rules apply (production: highly available). */
  environment: Environment;
  apiReplicas: number;
  apiMaxReplicas: number;
  workerReplicas: number;
}


/** The replica rules: the autoscaler's bounds in order, and high availability in production. */
export function replicaProblems(s: ReplicaSettings): SettingProblem[] {
  const production = s.environment === "production";
  return [
    ...(s.apiMaxReplicas < s.apiReplicas ? [{ key: "apiMaxReplicas", got: s.apiMaxReplicas, expected: `at least services.apiReplicas (${s.apiReplicas})` }] : []),
    ...(production && s.apiReplicas < 2 ? [{ key: "apiReplicas", got: s.apiReplicas, expected: "at least 2 in production (one pod is not highly available)" }] : []),
    ...(production && s.workerReplicas < 1 ? [{ key: "workerReplicas", got: s.workerReplicas, expected: "at least 1 in production (the worker never scales to zero)" }] : []),
  ];
}

/** The container port's name; probes, the Service and the Ingress refer to it by name. */
export const HTTP_PORT_NAME = "http";
/** The Service's port; the Ingress forwards to it. */
export const SERVICE_PORT = 80;
/** The read-only root filesystem leaves only this emptyDir writable. */
const SCRATCH_MOUNT = "/tmp";
const ZONE_TOPOLOGY_KEY = "topology.kubernetes.io/zone";

/** Labels that select one workload's pods; never change them (a Deployment's selector is immutable). */
export function selectorLabels(workload: Workload): Record<string, string> {
  return { "app.kubernetes.io/name": "runbook", "app.kubernetes.io/component": workload };
}

export function workloadLabels(workload: Workload, stack: string): Record<string, string> {
  return { ...selectorLabels(workload), "app.kubernetes.io/part-of": "runbook-platform", "app.kubernetes.io/instance": stack, "app.kubernetes.io/managed-by": "pulumi" };
}

/** What the restricted Pod Security Standard demands of a pod, and no more privilege than that. */
function podSecurityContext(runAsUser: number): k8s.core.v1.PodSecurityContext {
  return { runAsNonRoot: true, runAsUser, runAsGroup: runAsUser, fsGroup: runAsUser, seccompProfile: { type: "RuntimeDefault" } };
}

function containerSecurityContext(runAsUser: number): k8s.core.v1.SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser,
    runAsGroup: runAsUser,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

const httpGet = (path: string): k8s.core.v1.HTTPGetAction => ({ path, port: HTTP_PORT_NAME, scheme: "HTTP" });

/**
 * "Confirm /health/live and /health/ready". Both workloads answer these on $PORT: readiness takes a
 * pod out of rotation (and holds a rollout) while PostgreSQL or Redis is unreachable; liveness
 * restarts only a process that no longer answers at all, so a database outage never restarts pods.
 * The startup probe gives a cold start up to `startupSeconds` before liveness applies.
 */
function probes(workload: Workload): Pick<k8s.core.v1.Container, "startupProbe" | "livenessProbe" | "readinessProbe"> {
  // The worker's event loop may be busy with a job: give its liveness probe more slack.
  const liveness = workload === "api" ? { periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 } : { periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 };
  return {
    startupProbe: { httpGet: httpGet(HEALTH_PATHS.live), periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 24 },
    livenessProbe: { httpGet: httpGet(HEALTH_PATHS.live), ...liveness },
    readinessProbe: { httpGet: httpGet(HEALTH_PATHS.ready), periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3, successThreshold: 1 },
  };
}

function resourceRequirements(r: ContainerResources): k8s.core.v1.ResourceRequirements {
  return { requests: { cpu: r.cpuRequest, memory: r.memoryRequest }, limits: { cpu: r.cpuLimit, memory: r.memoryLimit } };
}

export interface PodTemplateArgs {
  workload: Workload;
  stack: string;
  image: k8s.core.v1.Container["image"];
  port: number;
  resources: ContainerResources;
  serviceAccountName: string;
  configMapName: string;
  secretName: string;
  runAsUser: number;
  /** `DoNotSchedule` keeps a zone outage from taking every pod; `ScheduleAnyway` lets a small stack schedule. */
  zoneSpread: "DoNotSchedule" | "ScheduleAnyway";
}

/** One pod template for both workloads: the same image, settings and hardening; only the role differs. */
export function podTemplate(args: PodTemplateArgs): k8s.core.v1.PodTemplateSpec {
  const { workload } = args;
  const container: k8s.core.v1.Container = {
    name: workload,
    image: args.image,
    imagePullPolicy: "IfNotPresent",
    // "Worker: dedicated `npm run worker` process"; the API runs the image's own entrypoint.
    ...(workload === "worker" ? { command: [...WORKER_COMMAND] } : {}),
    ports: [{ name: HTTP_PORT_NAME, containerPort: args.port, protocol: "TCP" }],
    envFrom: [{ configMapRef: { name: args.configMapName } }, { secretRef: { name: args.secretName } }],
    // npm writes its cache and logs under $HOME; the root filesystem is read-only.
    env: workload === "worker" ? [{ name: "NPM_CONFIG_CACHE", value: `${SCRATCH_MOUNT}/.npm` }, { name: "NPM_CONFIG_UPDATE_NOTIFIER", value: "false" }] : [],
    resources: resourceRequirements(args.resources),
    securityContext: containerSecurityContext(args.runAsUser),
    volumeMounts: [{ name: "scratch", mountPath: SCRATCH_MOUNT }],
    ...probes(workload),
  };
  return {
    metadata: { labels: workloadLabels(workload, args.stack) },
    spec: {
      serviceAccountName: args.serviceAccountName,
      // IRSA mounts its own projected token; the pods never call the Kubernetes API.
      automountServiceAccountToken: false,
      securityContext: podSecurityContext(args.runAsUser),
      terminationGracePeriodSeconds: 30,
      containers: [container],
      volumes: [{ name: "scratch", emptyDir: { sizeLimit: "256Mi" } }],
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: ZONE_TOPOLOGY_KEY, whenUnsatisfiable: args.zoneSpread, labelSelector: { matchLabels: selectorLabels(workload) } },
        { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selectorLabels(workload) } },
      ],
    },
  };
}

/** Zero-downtime rollouts: a new pod must be Ready before an old one goes (maxUnavailable 0). */
export const ROLLING_UPDATE: k8s.apps.v1.DeploymentStrategy = { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } };

/**
 * AWS Load Balancer Controller settings: a public ALB in the cluster's public subnets (named, so
 * placement never depends on tag discovery), HTTPS only, health-checked on readiness.
 */
export function ingressAnnotations(certificateArn: string, publicSubnetIds: string[]): Record<string, string> {
  return {
    "alb.ingress.kubernetes.io/scheme": "internet-facing",
    "alb.ingress.kubernetes.io/subnets": publicSubnetIds.join(","),
    "alb.ingress.kubernetes.io/target-type": "ip",
    // Port 80 exists only to redirect to 443.
    "alb.ingress.kubernetes.io/listen-ports": JSON.stringify([{ HTTP: 80 }, { HTTPS: 443 }]),
    "alb.ingress.kubernetes.io/ssl-redirect": "443",
    "alb.ingress.kubernetes.io/certificate-arn": certificateArn,
    "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "alb.ingress.kubernetes.io/backend-protocol": "HTTP",
    "alb.ingress.kubernetes.io/healthcheck-path": HEALTH_PATHS.ready,
    "alb.ingress.kubernetes.io/success-codes": "200",
    "alb.ingress.kubernetes.io/target-group-attributes": "deregistration_delay.timeout_seconds=30",
  };
}

/** IRSA trust: only this service account of this namespace, with tokens minted for STS. */
export function irsaTrustPolicy(oidcProviderArn: string, oidcIssuer: string, namespace: string, serviceAccount: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: oidcProviderArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${oidcIssuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
            [`${oidcIssuer}:aud`]: "sts.amazonaws.com",
          },
        },
      },
    ],
  });
}

/** Least privilege on the uploads bucket (objects in and out, listing), plus IAM auth to PostgreSQL when given. */
export function appPolicy(uploadsBucketArn: string, databaseConnectArn: string | undefined): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "UploadsObjects", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: `${uploadsBucketArn}/*` },
      { Sid: "UploadsList", Effect: "Allow", Action: "s3:ListBucket", Resource: uploadsBucketArn },
      ...(databaseConnectArn ? [{ Sid: "DatabaseIamAuth", Effect: "Allow", Action: "rds-db:connect", Resource: databaseConnectArn }] : []),
    ],
  });
}
