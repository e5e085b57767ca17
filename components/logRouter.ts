import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as iam from "@pulumi/aws/iam";
import * as apps from "@pulumi/kubernetes/apps/v1";
import * as core from "@pulumi/kubernetes/core/v1";
import * as networking from "@pulumi/kubernetes/networking/v1";
import * as rbac from "@pulumi/kubernetes/rbac/v1";
import type * as k8s from "@pulumi/kubernetes/types/input";
import { physicalName, type StackIdentity } from "./naming";
import { irsaTrustPolicy } from "./services/workloads";

/**
 * The log router: Fluent Bit as a DaemonSet that tails the API's and worker's container output on
 * every node, lifts each JSON line to top-level fields (`kubernetes` filter, `Merge_Log On`) and
 * writes it to exactly the log group the metric filters read (`cloudwatch_logs` output,
 * `auto_create_group Off`: the Alarms component owns the groups, their retention and their key).
 * Its IRSA role may create streams and put events in those groups and nowhere else. Built from
 * plain Kubernetes and AWS resources so the offline plan and the policies see every route.
 */

/** Fluent Bit 3.2.10 (cr.fluentbit.io, the project's registry). Pass `image` pinned by digest to freeze it. */
const FLUENT_BIT_IMAGE = "cr.fluentbit.io/fluent/fluent-bit:3.2.10";
/** The router's service account; its IRSA role trusts exactly `system:serviceaccount:<namespace>:<this>`. */
const LOG_ROUTER_SERVICE_ACCOUNT = "fluent-bit";
const CONFIG_PATH = "/fluent-bit/etc";
const STATE_PATH = "/var/fluent-bit/state";

/** One route: the containers of one workload to one log group. */
export interface LogRoute {
  /** Stable key: the tag prefix, the stream prefix and the child names. @example "api" */
  key: string;
  /** Namespace the workload's pods run in. */
  namespace: pulumi.Input<string>;
  /** Container name inside those pods (the kubelet names its log `<pod>_<namespace>_<container>-<id>.log`). */
  container: string;
  /** The log group (created elsewhere) the lines go to. */
  logGroupName: pulumi.Input<string>;
  /** Its ARN: the only log group the role may write to for this route. */
  logGroupArn: pulumi.Input<string>;
}

export interface LogRouterArgs {
  stack: StackIdentity;
  /** Region of the log groups (the stack's region). */
  region: string;
  /** The Kubernetes provider of the cluster the workloads run in. */
  provider: pulumi.ProviderResource;
  /** The cluster's IAM OIDC provider ARN, which IRSA trusts. */
  oidcProviderArn: pulumi.Input<string>;
  /** The OIDC issuer without `https://` (e.g. `oidc.eks.eu-west-1.amazonaws.com/id/ABC`). */
  oidcIssuer: pulumi.Input<string>;
  /** The node subnets' ranges: kubelet's probes of the router come from there (its only ingress). */
  nodeCidrs: pulumi.Input<pulumi.Input<string>[]>;
  /** Workload containers and the log groups they write to; keys must be unique. */
  routes: LogRoute[];
  /**
   * Namespace created for the router. It runs as root with host paths (the kubelet's logs are
   * root-owned), so it gets its own namespace at the `privileged` Pod Security level.
   * @default "log-router"
   */
  namespace?: string;
  /** @default FLUENT_BIT_IMAGE */
  image?: string;
  /** Tags for the IAM role. */
  tags: Record<string, string>;
}

/** Throws a fixable message for routes the router cannot keep apart. */
export function validateLogRouterArgs(args: LogRouterArgs): void {
  if (args.routes.length === 0) throw new Error("LogRouter: routes is empty; pass one route per workload whose logs the alarms read.");
  const keys = args.routes.map((r) => r.key);
  const twice = keys.find((k, i) => keys.indexOf(k) !== i);
  if (twice !== undefined) throw new Error(`LogRouter: route key "${twice}" is used twice; each route needs its own key (it is the Fluent Bit tag).`);
  const bad = args.routes.find((r) => !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(r.key) || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(r.container));
  if (bad) throw new Error(`LogRouter: route "${bad.key}" (container "${bad.container}") must use lower-case DNS labels for key and container.`);
}

/** A route with its inputs resolved, as the Fluent Bit configuration needs it. */
export interface ResolvedRoute {
  key: string;
  namespace: string;
  container: string;
  logGroupName: string;
}

/** The tail input's tag for a route; the filter and output match on `<tag>.*`. */
const routeTag = (key: string): string => `route.${key}`;

/**
 * The Fluent Bit configuration (classic format): one `tail` input per route on exactly that
 * container's log files, the `kubernetes` filter that parses the line's JSON into top-level fields,
 * and one `cloudwatch_logs` output per route to its log group. Pure: tests read it back.
 */
export function fluentBitConfig(region: string, routes: readonly ResolvedRoute[]): string {
  const section = (name: string, entries: [string, string | number][]) => [`[${name}]`, ...entries.map(([k, v]) => `    ${k.padEnd(22)} ${v}`), ""].join("\n");
  const parts = [
    section("SERVICE", [
      ["Flush", 5],
      ["Log_Level", "info"],
      ["Daemon", "off"],
      ["Parsers_File", "/fluent-bit/etc/parsers.conf"],
      ["HTTP_Server", "On"],
      ["HTTP_Listen", "0.0.0.0"],
      ["HTTP_Port", 2020],
      ["Health_Check", "On"],
      ["storage.path", `${STATE_PATH}/buffer`],
    ]),
  ];
  for (const r of routes) {
    const tag = routeTag(r.key);
    parts.push(
      section("INPUT", [
        ["Name", "tail"],
        ["Tag", `${tag}.*`],
        ["Path", `/var/log/containers/*_${r.namespace}_${r.container}-*.log`],
        ["multiline.parser", "cri, docker"],
        ["DB", `${STATE_PATH}/${r.key}.db`],
        ["Mem_Buf_Limit", "50MB"],
        ["storage.type", "filesystem"],
        ["Skip_Long_Lines", "On"],
        ["Refresh_Interval", 10],
      ]),
      section("FILTER", [
        ["Name", "kubernetes"],
        ["Match", `${tag}.*`],
        ["Kube_Tag_Prefix", `${tag}.var.log.containers.`],
        ["Merge_Log", "On"],
        ["Keep_Log", "Off"],
        ["K8S-Logging.Parser", "Off"],
        ["K8S-Logging.Exclude", "Off"],
        ["Labels", "Off"],
        ["Annotations", "Off"],
      ]),
      section("OUTPUT", [
        ["Name", "cloudwatch_logs"],
        ["Match", `${tag}.*`],
        ["region", region],
        ["log_group_name", r.logGroupName],
        ["log_stream_prefix", `${r.key}.`],
        ["auto_create_group", "Off"],
        ["Retry_Limit", "False"],
      ]),
    );
  }
  return parts.join("\n");
}

/** Create streams and put events in the routes' log groups, nothing else (no CreateLogGroup: retention and KMS stay the program's). */
export function logRouterPolicy(logGroupArns: readonly string[]): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "WriteTheAlarmLogGroupsOnly",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        Resource: logGroupArns.flatMap((arn) => [arn, `${arn}:*`]),
      },
    ],
  });
}

export class LogRouter extends pulumi.ComponentResource {
  /** The routes as deployed: which containers write to which log group. */
  public readonly routes: pulumi.Output<ResolvedRoute[]>;
  /** The IRSA role Fluent Bit assumes. */
  public readonly roleArn: pulumi.Output<string>;
  public readonly namespace: pulumi.Output<string>;

  constructor(name: string, args: LogRouterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook-platform:observability:LogRouter", name, {}, opts);
    validateLogRouterArgs(args);
    const namespace = args.namespace ?? "log-router";
    const image = args.image ?? FLUENT_BIT_IMAGE;
    const k8sOpts = { parent: this, provider: args.provider };
    const labels = { "app.kubernetes.io/name": "fluent-bit", "app.kubernetes.io/part-of": "runbook-platform", "app.kubernetes.io/instance": args.stack.name };

    const routes = pulumi
      .all(args.routes.map((r) => pulumi.all([r.namespace, r.logGroupName]).apply(([ns, group]) => ({ key: r.key, namespace: ns, container: r.container, logGroupName: group }))))
      .apply((list) => list);

    const ns = new core.Namespace(
      `${name}-namespace`,
      { metadata: { name: namespace, labels: { ...labels, "pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/warn": "baseline" } } },
      k8sOpts,
    );
    const nsOpts = { ...k8sOpts, dependsOn: [ns] };

    const role = new iam.Role(
      `${name}-irsa`,
      {
        name: physicalName(args.stack, "log-router-irsa", "iam"),
        description: `Fluent Bit (${namespace}/${LOG_ROUTER_SERVICE_ACCOUNT}) writes the application's logs to the alarm log groups`,
        assumeRolePolicy: pulumi.all([args.oidcProviderArn, args.oidcIssuer]).apply(([arn, issuer]) => irsaTrustPolicy(arn, issuer, namespace, LOG_ROUTER_SERVICE_ACCOUNT)),
        maxSessionDuration: 3600,
        tags: args.tags,
      },
      { parent: this },
    );
    new iam.RolePolicy(
      `${name}-irsa-policy`,
      { role: role.id, policy: pulumi.all(args.routes.map((r) => r.logGroupArn)).apply((arns) => logRouterPolicy(arns)) },
      { parent: this },
    );

    new core.ServiceAccount(
      `${name}-service-account`,
      {
        metadata: {
          name: LOG_ROUTER_SERVICE_ACCOUNT,
          namespace,
          labels,
          annotations: { "eks.amazonaws.com/role-arn": role.arn, "eks.amazonaws.com/sts-regional-endpoints": "true" },
        },
      },
      nsOpts,
    );
    // The kubernetes filter reads pod metadata from the API server.
    const readerName = `${args.stack.namePrefix}-${args.stack.name}-log-router-reader`;
    const clusterRole = new rbac.ClusterRole(
      `${name}-reader`,
      { metadata: { name: readerName, labels }, rules: [{ apiGroups: [""], resources: ["pods", "namespaces"], verbs: ["get", "list", "watch"] }] },
      k8sOpts,
    );
    new rbac.ClusterRoleBinding(
      `${name}-reader-binding`,
      {
        metadata: { name: readerName, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: LOG_ROUTER_SERVICE_ACCOUNT, namespace }],
      },
      nsOpts,
    );
    const configText = routes.apply((list) => fluentBitConfig(args.region, list));
    const config = new core.ConfigMap(
      `${name}-config`,
      {
        metadata: { name: "fluent-bit", namespace, labels },
        data: {
          "fluent-bit.conf": configText,
          // The cri and docker multiline parsers are built in; this file keeps Parsers_File valid.
          "parsers.conf": "[PARSER]\n    Name   json\n    Format json\n",
        },
      },
      nsOpts,
    );

    new apps.DaemonSet(
      `${name}-daemonset`,
      {
        metadata: { name: "fluent-bit", namespace, labels },
        spec: {
          selector: { matchLabels: { "app.kubernetes.io/name": "fluent-bit" } },
          updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
          template: {
            metadata: {
              labels,
              // A changed configuration rolls the pods.
              annotations: { "runbook-platform/config-sha256": configText.apply((text) => createHash("sha256").update(text).digest("hex")) },
            },
            spec: {
              serviceAccountName: LOG_ROUTER_SERVICE_ACCOUNT,
              // Every node that may run an API or worker pod, tainted ones included.
              tolerations: [{ operator: "Exists" }],
              containers: [
                {
                  name: "fluent-bit",
                  image,
                  args: ["--config", `${CONFIG_PATH}/fluent-bit.conf`],
                  ports: [{ name: "http", containerPort: 2020, protocol: "TCP" }],
                  livenessProbe: { httpGet: { path: "/", port: "http" }, periodSeconds: 30 },
                  readinessProbe: { httpGet: { path: "/api/v1/health", port: "http" }, periodSeconds: 10 },
                  resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                  // Root to read the kubelet's root-owned logs; no capabilities, no escalation, read-only image.
                  securityContext: {
                    runAsUser: 0,
                    runAsNonRoot: false,
                    readOnlyRootFilesystem: true,
                    allowPrivilegeEscalation: false,
                    privileged: false,
                    capabilities: { drop: ["ALL"] },
                    seccompProfile: { type: "RuntimeDefault" },
                  },
                  volumeMounts: [
                    { name: "config", mountPath: CONFIG_PATH, readOnly: true },
                    { name: "varlog", mountPath: "/var/log", readOnly: true },
                    { name: "state", mountPath: STATE_PATH },
                  ],
                },
              ],
              volumes: [
                { name: "config", configMap: { name: config.metadata.name } },
                { name: "varlog", hostPath: { path: "/var/log", type: "Directory" } },
                // Tail positions and the filesystem buffer survive a pod restart: nothing shipped twice or lost.
                { name: "state", hostPath: { path: STATE_PATH, type: "DirectoryOrCreate" } },
              ],
            },
          },
        },
      },
      nsOpts,
    );

    // Default deny, then exactly what the router needs: cluster DNS, HTTPS out (the Kubernetes API
    // for pod metadata, STS for IRSA, CloudWatch Logs), and kubelet's probes in.
    const podSelector = { matchLabels: { "app.kubernetes.io/name": "fluent-bit" } };
    const policies: [string, pulumi.Input<k8s.networking.v1.NetworkPolicySpec>][] = [
      ["default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }],
      [
        "egress",
        {
          podSelector,
          policyTypes: ["Egress"],
          egress: [
            {
              to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
              ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
            },
            { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] },
          ],
        },
      ],
      [
        "probes",
        pulumi.output(args.nodeCidrs).apply((cidrs) => ({
          podSelector,
          policyTypes: ["Ingress"],
          ingress: [{ from: cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: 2020 }] }],
        })),
      ],
    ];
    for (const [policyName, spec] of policies) {
      new networking.NetworkPolicy(`${name}-${policyName}`, { metadata: { name: policyName, namespace, labels }, spec }, nsOpts);
    }

    this.routes = routes;
    this.roleArn = role.arn;
    this.namespace = ns.metadata.name;
    this.registerOutputs({ routes: this.routes, roleArn: this.roleArn, namespace: this.namespace });
  }
}
