import { beforeAll, describe, expect, it } from "vitest";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { requireSecureRedisUrl, validateServicesArgs } from "../../components/services";
import { NETWORK_POLICY_NAMES, networkPolicies } from "../../components/services/networkPolicies";
import { ACCOUNT_ID, one, ofType, type ProgramResult, ProgramError, type RecordedResource, redactedInputs, runProgram, stackConfig } from "../support/harness";
import type { StackName } from "../../runbook";
import { shippedStack } from "../../components/naming";
import { restrictedViolations, type RestrictedPodSpec } from "../support/podSecurity";

/** The Kubernetes schema (kubernetes-models) for every kind the program renders. */
const MODELS: Record<string, (data: Record<string, unknown>) => { validate(): void }> = {
  "kubernetes:core/v1:Namespace": (d) => new Namespace(d as never),
  "kubernetes:core/v1:ServiceAccount": (d) => new ServiceAccount(d as never),
  "kubernetes:core/v1:Secret": (d) => new Secret(d as never),
  "kubernetes:core/v1:ConfigMap": (d) => new ConfigMap(d as never),
  "kubernetes:core/v1:Service": (d) => new Service(d as never),
  "kubernetes:apps/v1:Deployment": (d) => new Deployment(d as never),
  "kubernetes:networking.k8s.io/v1:Ingress": (d) => new Ingress(d as never),
  "kubernetes:networking.k8s.io/v1:NetworkPolicy": (d) => new NetworkPolicy(d as never),
  "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": (d) => new HorizontalPodAutoscaler(d as never),
  "kubernetes:policy/v1:PodDisruptionBudget": (d) => new PodDisruptionBudget(d as never),
};

interface ServicesSettings {
  namespace: string;
  port: number;
  apiReplicas: number;
  apiMaxReplicas: number;
  workerReplicas: number;
  apiResources: Record<string, string>;
  workerResources: Record<string, string>;
  ingress: { host: string; certificateArn?: string };
}
const settings = (stack: StackName) => JSON.parse(stackConfig(stack)["runbook-platform:services"] as string) as ServicesSettings;

type Pod = {
  serviceAccountName: string;
  automountServiceAccountToken: boolean;
  securityContext: Record<string, unknown>;
  containers: Record<string, unknown>[];
  volumes: unknown[];
  topologySpreadConstraints: Record<string, unknown>[];
};
const podOf = (deployment: RecordedResource) => (deployment.inputs.spec as { template: { spec: Pod } }).template.spec;
const containerOf = (deployment: RecordedResource) => podOf(deployment).containers[0] as Record<string, unknown>;

const validArgs: Parameters<typeof validateServicesArgs>[0] = {
  stack: shippedStack("production"),
  apiReplicas: 2,
  apiMaxReplicas: 4,
  workerReplicas: 1,
};

describe("validateServicesArgs and requireSecureRedisUrl", () => {
  it("accepts a highly available production service", () => {
    expect(() => validateServicesArgs(validArgs)).not.toThrow();
    expect(() => validateServicesArgs({ ...validArgs, stack: shippedStack("staging"), apiReplicas: 1, workerReplicas: 0 })).not.toThrow();
  });
  it("refuses one API pod or no worker in production, and a maximum below the minimum", () => {
    expect(() => validateServicesArgs({ ...validArgs, apiReplicas: 1 })).toThrow("Services: apiReplicas is 1; expected at least 2 in production (one pod is not highly available).");
    expect(() => validateServicesArgs({ ...validArgs, workerReplicas: 0 })).toThrow("Services: workerReplicas is 0; expected at least 1 in production (the worker never scales to zero).");
    expect(() => validateServicesArgs({ ...validArgs, apiMaxReplicas: 1 })).toThrow("Services: apiMaxReplicas is 1; expected at least services.apiReplicas (2).");
  });
  it("refuses root", () => {
    expect(() => validateServicesArgs({ ...validArgs, runAsUser: 0 })).toThrow("Services: runAsUser is 0 (root)");
  });
  it("takes only rediss:// URLs with credentials, and never echoes them", () => {
    expect(requireSecureRedisUrl("rediss://:s3cret@master.example:6379")).toBe("rediss://:s3cret@master.example:6379");
    expect(() => requireSecureRedisUrl("redis://:s3cret@master.example:6379")).toThrow("Services: redisUrl uses redis://; expected rediss:// (TLS).");
    expect(() => requireSecureRedisUrl("rediss://master.example:6379")).toThrow("Services: redisUrl has no credentials");
    expect(() => requireSecureRedisUrl("not a url s3cret")).toThrow(/^Services: redisUrl is not a URL; expected rediss:\/\/:<token>@<host>:<port>\.$/);
  });
});

describe("the Kubernetes schema check itself", () => {
  it("rejects a malformed Deployment (so the schema tests below can fail)", () => {
    const model = MODELS["kubernetes:apps/v1:Deployment"];
    const bad = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "api" }, spec: { replicas: "two", template: { spec: { containers: [] } } } };
    expect(() => model?.(bad).validate()).toThrow(/replicas must be integer|must have required property 'selector'/);
  });
});

describe.each(["staging", "production"] as const)("Services in %s", (stack) => {
  let result: ProgramResult;
  let api: RecordedResource;
  let worker: RecordedResource;
  const config = settings(stack);
  const kube = (kind: string, name?: string) => one(result, `kubernetes:${kind}`, name);

  beforeAll(async () => {
    result = await runProgram({ stack });
    api = kube("apps/v1:Deployment", "services-api");
    worker = kube("apps/v1:Deployment", "services-worker");
  });

  it("renders only objects that validate against the Kubernetes schema", () => {
    const objects = result.resources.filter((r) => r.type.startsWith("kubernetes:") && r.parentName === "services");
    expect(objects.map((r) => r.type).sort()).toEqual(
      [
        "kubernetes:apps/v1:Deployment",
        "kubernetes:apps/v1:Deployment",
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
        "kubernetes:core/v1:ConfigMap",
        "kubernetes:core/v1:Namespace",
        "kubernetes:core/v1:Secret",
        "kubernetes:core/v1:Service",
        "kubernetes:core/v1:ServiceAccount",
        "kubernetes:networking.k8s.io/v1:Ingress",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "kubernetes:policy/v1:PodDisruptionBudget",
        "kubernetes:policy/v1:PodDisruptionBudget",
      ].sort(),
    );
    for (const object of objects) {
      const model = MODELS[object.type];
      expect(model, `no schema for ${object.type}`).toBeDefined();
      expect(() => model?.(object.inputs).validate(), `${object.name} (${object.type})`).not.toThrow();
    }
  });

  it("sends every object through the one Kubernetes provider, and creates the namespace under the restricted Pod Security Standard", () => {
    const provider = one(result, "pulumi:providers:kubernetes");
    expect(provider.name).toBe("cluster-k8s");
    const objects = result.resources.filter((r) => r.type.startsWith("kubernetes:"));
    expect(objects.every((r) => r.provider?.startsWith(`${provider.urn}::`))).toBe(true);
    expect(kube("core/v1:Namespace", "services-namespace").inputs.metadata).toEqual({
      name: "runbook",
      labels: { "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "restricted" },
    });
    const own = objects.filter((r) => r.parentName === "services" && r.type !== "kubernetes:core/v1:Namespace");
    expect(own.every((r) => (r.inputs.metadata as { namespace: string }).namespace === config.namespace)).toBe(true);
  });

  it("binds the service account to an IAM role that trusts only that service account, through the cluster's OIDC provider", () => {
    const role = one(result, "aws:iam/role:Role", "services-irsa");
    expect(role.inputs.name).toBe(`runbook-${stack}-app-irsa`);
    expect(JSON.parse(role.inputs.assumeRolePolicy as string)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: result.outputs.oidcProviderArn },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: {
              [`${String(result.outputs.oidcIssuer)}:sub`]: "system:serviceaccount:runbook:runbook-app",
              [`${String(result.outputs.oidcIssuer)}:aud`]: "sts.amazonaws.com",
            },
          },
        },
      ],
    });
    const serviceAccount = kube("core/v1:ServiceAccount", "services-service-account");
    expect(serviceAccount.inputs.metadata).toMatchObject({
      name: "runbook-app",
      annotations: { "eks.amazonaws.com/role-arn": `arn:aws:iam::${ACCOUNT_ID}:role/runbook-${stack}-app-irsa`, "eks.amazonaws.com/sts-regional-endpoints": "true" },
    });
    expect(result.outputs.appRoleArn).toBe(`arn:aws:iam::${ACCOUNT_ID}:role/runbook-${stack}-app-irsa`);
  });

  it("grants the role the uploads bucket's objects and listing, and IAM auth to PostgreSQL, nothing else", () => {
    const bucketArn = String(result.outputs.uploadsBucketArn);
    expect(JSON.parse(one(result, "aws:iam/rolePolicy:RolePolicy", "services-irsa-policy").inputs.policy as string)).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Sid: "UploadsObjects", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: `${bucketArn}/*` },
        { Sid: "UploadsList", Effect: "Allow", Action: "s3:ListBucket", Resource: bucketArn },
        { Sid: "DatabaseIamAuth", Effect: "Allow", Action: "rds-db:connect", Resource: String(result.outputs.databaseIamConnectArn) },
      ],
    });
  });

  it("hands DATABASE_URL and REDIS_URL over as secrets, and the rest in a ConfigMap", () => {
    const secret = kube("core/v1:Secret");
    expect(secret.secretPaths).toContain("stringData");
    expect(secret.inputs.stringData).toEqual({ DATABASE_URL: result.outputs.databaseUrl, REDIS_URL: result.outputs.redisUrl });
    expect(String(result.outputs.redisUrl)).toMatch(/^rediss:\/\/:[^@]+@/);
    expect(JSON.stringify(redactedInputs(secret))).not.toContain(String(result.outputs.redisUrl));
    expect(kube("core/v1:ConfigMap", "services-config").inputs.data).toEqual({
      NODE_ENV: "production",
      APP_ENV: stack,
      PORT: String(config.port),
      AWS_REGION: "eu-west-1",
      S3_BUCKET: result.outputs.uploadsBucketName,
    });
  });

  it("hardens both workloads: non-root, read-only root with a /tmp emptyDir, no capabilities, no escalation, seccomp", () => {
    for (const deployment of [api, worker]) {
      const pod = podOf(deployment);
      expect(pod.serviceAccountName).toBe("runbook-app");
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(restrictedViolations(pod as unknown as RestrictedPodSpec)).toEqual([]);
      expect(pod.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 });
      const container = containerOf(deployment);
      expect(container.securityContext).toMatchObject({ runAsUser: 1000, readOnlyRootFilesystem: true });
      expect(container.volumeMounts).toEqual([{ name: "scratch", mountPath: "/tmp" }]);
      expect(pod.volumes).toEqual([{ name: "scratch", emptyDir: { sizeLimit: "256Mi" } }]);
      expect(container.envFrom).toEqual([{ configMapRef: { name: "runbook-app" } }, { secretRef: { name: "runbook-app" } }]);
      expect((deployment.inputs.spec as { strategy: unknown }).strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    }
  });

  it("the Pod Security Standards check catches each Restricted control broken (so the pass above means something)", () => {
    type Context = NonNullable<RestrictedPodSpec["securityContext"]>;
    const broken: [string, (pod: RestrictedPodSpec, container: Context) => void][] = [
      ["allowPrivilegeEscalation is not false", (_pod, c) => void (c.allowPrivilegeEscalation = true)],
      ["capabilities do not drop ALL", (_pod, c) => void (c.capabilities = {})],
      ["runAsNonRoot is not true", (pod, c) => void ((pod.securityContext = { ...pod.securityContext, runAsNonRoot: false }), delete c.runAsNonRoot)],
      ["seccompProfile is Unconfined", (pod, c) => void ((pod.securityContext = { ...pod.securityContext, seccompProfile: { type: "Unconfined" } }), delete c.seccompProfile)],
      ["type hostPath is not allowed", (pod) => void (pod.volumes = [...(pod.volumes ?? []), { name: "host", hostPath: { path: "/" } }])],
      ["hostNetwork is true", (pod) => void (pod.hostNetwork = true)],
      ["privileged (Privileged Containers)", (_pod, c) => void (c.privileged = true)],
      ["runAsUser is 0", (_pod, c) => void (c.runAsUser = 0)],
      ["adds capability SYS_ADMIN", (_pod, c) => void (c.capabilities = { drop: ["ALL"], add: ["SYS_ADMIN"] })],
      ["procMount Unmasked", (_pod, c) => void (c.procMount = "Unmasked")],
      ["uses a hostPort", (pod) => void (pod.containers[0] = { ...pod.containers[0], ports: [{ hostPort: 8080 }] })],
    ];
    for (const [violation, breakIt] of broken) {
      const pod = structuredClone(podOf(api)) as unknown as RestrictedPodSpec;
      const container = pod.containers[0]?.securityContext as Context;
      breakIt(pod, container);
      expect(restrictedViolations(pod).join("\n")).toContain(violation);
    }
  });

  it("runs the API with readiness on /health/ready, liveness on /health/live, a startup probe and its resources", () => {
    const container = containerOf(api);
    expect(container.command).toBeUndefined();
    expect(container.ports).toEqual([{ name: "http", containerPort: config.port, protocol: "TCP" }]);
    const http = (path: string) => ({ path, port: "http", scheme: "HTTP" });
    expect(container.readinessProbe).toEqual({ httpGet: http("/health/ready"), periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3, successThreshold: 1 });
    expect(container.livenessProbe).toEqual({ httpGet: http("/health/live"), periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 });
    expect(container.startupProbe).toEqual({ httpGet: http("/health/live"), periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 24 });
    expect(container.resources).toEqual({
      requests: { cpu: config.apiResources.cpuRequest, memory: config.apiResources.memoryRequest },
      limits: { cpu: config.apiResources.cpuLimit, memory: config.apiResources.memoryLimit },
    });
    expect((api.inputs.spec as { replicas: number }).replicas).toBe(config.apiReplicas);
  });

  it("runs the worker as `npm run worker` from the same image, with its own probes and resources, and no Service", () => {
    const container = containerOf(worker);
    expect(container.command).toEqual(["npm", "run", "worker"]);
    expect(container.image).toBe(containerOf(api).image);
    expect(container.env).toEqual([
      { name: "NPM_CONFIG_CACHE", value: "/tmp/.npm" },
      { name: "NPM_CONFIG_UPDATE_NOTIFIER", value: "false" },
    ]);
    expect(container.livenessProbe).toEqual({ httpGet: { path: "/health/live", port: "http", scheme: "HTTP" }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 });
    expect((container.readinessProbe as { httpGet: { path: string } }).httpGet.path).toBe("/health/ready");
    expect(container.resources).toEqual({
      requests: { cpu: config.workerResources.cpuRequest, memory: config.workerResources.memoryRequest },
      limits: { cpu: config.workerResources.cpuLimit, memory: config.workerResources.memoryLimit },
    });
    expect((worker.inputs.spec as { replicas: number }).replicas).toBe(config.workerReplicas);
    const services = ofType(result, "kubernetes:core/v1:Service");
    expect(services.map((s) => (s.inputs.spec as { selector: Record<string, string> }).selector)).toEqual([
      { "app.kubernetes.io/name": "runbook", "app.kubernetes.io/component": "api" },
    ]);
  });

  it("exposes the API through an ALB Ingress on its host, HTTPS only, health-checked on /health/ready", () => {
    const ingress = kube("networking.k8s.io/v1:Ingress");
    const annotations = (ingress.inputs.metadata as { annotations: Record<string, string> }).annotations;
    const alb = (name: string) => annotations[`alb.ingress.kubernetes.io/${name}`];
    // The wires: the public subnets the VPC tags for load balancers, the certificate for this host,
    // and the target health check on the very path the pods' readiness probe serves.
    expect(alb("scheme")).toBe("internet-facing");
    expect(alb("subnets")?.split(",")).toEqual(result.outputs.publicSubnetIds);
    expect(alb("certificate-arn")).toBe(
      config.ingress.certificateArn ?? one(result, "aws:acm/certificateValidation:CertificateValidation", "dns-certificates-api-validated").inputs.certificateArn,
    );
    const readiness = (containerOf(api).readinessProbe as { httpGet: { path: string } }).httpGet.path;
    expect(alb("healthcheck-path")).toBe(readiness);
    // HTTPS only: HTTP listens only to redirect, and the TLS policy admits no protocol below 1.2.
    expect(JSON.parse(alb("listen-ports") ?? "[]")).toEqual([{ HTTP: 80 }, { HTTPS: 443 }]);
    expect(alb("ssl-redirect")).toBe("443");
    expect(alb("ssl-policy")).toMatch(/^ELBSecurityPolicy-TLS13-1-2-/);
    // Pods are targets by IP (no NodePort), and the load balancer stops sending to a pod before the
    // pod's grace period ends, so no request lands on a terminated pod.
    expect(alb("target-type")).toBe("ip");
    const delay = Number(/^deregistration_delay\.timeout_seconds=(\d+)$/.exec(alb("target-group-attributes") ?? "")?.[1]);
    expect(delay).toBeLessThanOrEqual((podOf(api) as unknown as { terminationGracePeriodSeconds: number }).terminationGracePeriodSeconds);
    expect(ingress.inputs.spec).toEqual({
      ingressClassName: "alb",
      rules: [{ host: config.ingress.host, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "api", port: { name: "http" } } } }] } }],
    });
    expect(kube("core/v1:Service").inputs.spec).toMatchObject({ type: "ClusterIP", ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] });
    expect(result.outputs.apiUrl).toBe(`https://${config.ingress.host}`);
  });

  it("autoscales the API on CPU between apiReplicas and apiMaxReplicas, and lets one pod of each workload be evicted at a time", () => {
    expect(kube("autoscaling/v2:HorizontalPodAutoscaler").inputs.spec).toEqual({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "api" },
      minReplicas: config.apiReplicas,
      maxReplicas: config.apiMaxReplicas,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
    });
    for (const workload of ["api", "worker"]) {
      expect(kube("policy/v1:PodDisruptionBudget", `services-${workload}-pdb`).inputs.spec).toEqual({
        maxUnavailable: 1,
        selector: { matchLabels: { "app.kubernetes.io/name": "runbook", "app.kubernetes.io/component": workload } },
      });
    }
  });

  it("names every child after its parent", () => {
    const children = result.resources.filter((r) => r.parentName === "services");
    expect(children).toHaveLength(17);
    expect(children.filter((r) => !r.name.startsWith("services-"))).toEqual([]);
  });
});

describe("what differs between staging and production", () => {
  it("staging: one API pod (max 3), one worker, zone spread best-effort", async () => {
    const result = await runProgram({ stack: "staging" });
    const api = one(result, "kubernetes:apps/v1:Deployment", "services-api");
    expect((api.inputs.spec as { replicas: number }).replicas).toBe(1);
    expect((one(result, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs.spec as { maxReplicas: number }).maxReplicas).toBe(3);
    expect((one(result, "kubernetes:apps/v1:Deployment", "services-worker").inputs.spec as { replicas: number }).replicas).toBe(1);
    expect(podOf(api).topologySpreadConstraints[0]).toEqual({
      maxSkew: 1,
      topologyKey: "topology.kubernetes.io/zone",
      whenUnsatisfiable: "ScheduleAnyway",
      labelSelector: { matchLabels: { "app.kubernetes.io/name": "runbook", "app.kubernetes.io/component": "api" } },
    });
  });

  it("production: three API pods (max 10), two workers, never two API pods short of a zone", async () => {
    const result = await runProgram({ stack: "production" });
    const api = one(result, "kubernetes:apps/v1:Deployment", "services-api");
    expect((api.inputs.spec as { replicas: number }).replicas).toBe(3);
    expect((one(result, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs.spec as { maxReplicas: number }).maxReplicas).toBe(10);
    const worker = one(result, "kubernetes:apps/v1:Deployment", "services-worker");
    expect((worker.inputs.spec as { replicas: number }).replicas).toBe(2);
    for (const deployment of [api, worker]) {
      expect(podOf(deployment).topologySpreadConstraints.map((c) => [c.topologyKey, c.whenUnsatisfiable])).toEqual([
        ["topology.kubernetes.io/zone", "DoNotSchedule"],
        ["kubernetes.io/hostname", "ScheduleAnyway"],
      ]);
    }
  });
});

describe("bad services settings fail before anything is registered", () => {
  const refused = async (stack: StackName, services: Record<string, unknown>, expected: string) => {
    const error = await runProgram({ stack, config: { services } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProgramError);
    expect((error as ProgramError).resources).toEqual([]);
    expect((error as ProgramError).message).toContain(expected);
  };

  it("fewer than 2 API replicas in production", () =>
    refused("production", { apiReplicas: 1 }, "runbook-platform:services.apiReplicas: got 1; expected at least 2 in production (one pod is not highly available)"));
  it("a worker scaled to zero in production", () =>
    refused("production", { workerReplicas: 0 }, "runbook-platform:services.workerReplicas: got 0; expected at least 1 in production (the worker never scales to zero)"));
  it("an autoscaler maximum below its minimum", () => refused("staging", { apiMaxReplicas: 1, apiReplicas: 2 }, "runbook-platform:services.apiMaxReplicas: got 1; expected at least services.apiReplicas (2)"));
});

// What the policies admit is proven by evaluating them in tests/topology/topology.test.ts.
describe("networkPolicies", () => {
  const specs = networkPolicies({ port: 3000, vpcCidr: "10.40.0.0/16", nodeCidrs: ["10.40.0.0/18", "10.40.64.0/18"], dataSubnetCidrs: ["10.40.208.0/22", "10.40.212.0/22"], dataPorts: [5432, 6379] });
  it("names exactly the policies the component creates", () => {
    expect(Object.keys(specs)).toEqual([...NETWORK_POLICY_NAMES]);
  });
});
