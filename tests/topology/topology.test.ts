import { beforeAll, describe, expect, it } from "vitest";
import { cidrContains } from "../../components/cluster/layout";
import { STACKS, type StackName } from "../../runbook";
import { type AwsWorld, defaultWorld } from "../support/awsWorld";
import { ACCOUNT_ID, ofType, one, type ProgramResult, type RecordedResource, readStackFile, runProgram } from "../support/harness";
import { allowed, type NamespacedPolicy, type NetworkPolicySpec } from "./networkPolicy";

/**
 * The graph closes: from the registered resources alone (and, for an existing cluster, what the
 * account's lookups answered), every wire the running system needs exists. Nothing here restates
 * the program's values: each check follows references from one resource to the next.
 */

const T = {
  vpc: "aws:ec2/vpc:Vpc",
  subnet: "aws:ec2/subnet:Subnet",
  routeTable: "aws:ec2/routeTable:RouteTable",
  association: "aws:ec2/routeTableAssociation:RouteTableAssociation",
  gateway: "aws:ec2/internetGateway:InternetGateway",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  eks: "aws:eks/cluster:Cluster",
  nodeGroup: "aws:eks/nodeGroup:NodeGroup",
  rds: "aws:rds/instance:Instance",
  rdsSubnets: "aws:rds/subnetGroup:SubnetGroup",
  redis: "aws:elasticache/replicationGroup:ReplicationGroup",
  redisSubnets: "aws:elasticache/subnetGroup:SubnetGroup",
  provider: "pulumi:providers:kubernetes",
  release: "kubernetes:helm.sh/v3:Release",
  addon: "aws:eks/addon:Addon",
  ingress: "kubernetes:networking.k8s.io/v1:Ingress",
  hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  deployment: "kubernetes:apps/v1:Deployment",
  secret: "kubernetes:core/v1:Secret",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  namespace: "kubernetes:core/v1:Namespace",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  topic: "aws:sns/topic:Topic",
  key: "aws:kms/key:Key",
} as const;

/** A subnet wherever it came from: registered by the program, or looked up in the account. */
interface KnownSubnet {
  cidrBlock: string;
  vpc: string;
  tags: Record<string, string>;
}

/** The topology of one run: the cluster's VPC and a way to resolve any subnet reference. */
class Graph {
  readonly byUrn: Map<string, RecordedResource>;
  constructor(
    readonly result: ProgramResult,
    readonly world: AwsWorld,
  ) {
    this.byUrn = new Map(result.resources.map((r) => [r.urn, r]));
  }

  /** The resources of a type that an input of `from` references (by the engine's dependencies). */
  referenced(from: RecordedResource, input: string, type: string): RecordedResource[] {
    return (from.propertyDependencies?.[input] ?? []).map((urn) => this.byUrn.get(urn)).filter((r): r is RecordedResource => r?.type === type);
  }

  created(): boolean {
    return ofType(this.result, T.eks).length > 0;
  }

  /** The cluster the Kubernetes provider talks to: created here, or the looked-up one it names. */
  clusterName(): string {
    const kubeconfig = JSON.parse(one(this.result, T.provider).inputs.kubeconfig as string) as { clusters: { name: string }[] };
    return kubeconfig.clusters[0]?.name as string;
  }

  /** The VPC of the cluster's own subnets: a VPC URN (created) or a VPC id (existing). */
  clusterVpc(): string {
    if (this.created()) {
      const eks = one(this.result, T.eks);
      const vpcs = new Set(this.referenced(eks, "vpcConfig", T.subnet).flatMap((s) => this.referenced(s, "vpcId", T.vpc).map((v) => v.urn)));
      expect(vpcs.size, "the EKS cluster's subnets are in one VPC").toBe(1);
      return [...vpcs][0] as string;
    }
    const cluster = this.world.clusters.find((c) => c.name === this.clusterName());
    if (!cluster) throw new Error(`the provider names ${this.clusterName()}, which the account does not have`);
    return cluster.vpcId;
  }

  /** The cluster security group: the EKS cluster's URN (its attribute), or the looked-up id. */
  clusterSecurityGroup(): string {
    if (this.created()) return one(this.result, T.eks).urn;
    return this.world.clusters.find((c) => c.name === this.clusterName())?.clusterSecurityGroupId as string;
  }

  /** The subnets an input of `from` lists, resolved to their range, VPC and tags. */
  subnets(from: RecordedResource, input: string): KnownSubnet[] {
    if (this.created()) {
      return this.referenced(from, input, T.subnet).map((s) => ({
        cidrBlock: s.inputs.cidrBlock as string,
        vpc: this.referenced(s, "vpcId", T.vpc)[0]?.urn as string,
        tags: (s.inputs.tags ?? {}) as Record<string, string>,
      }));
    }
    return (from.inputs[input] as string[]).map((id) => {
      const subnet = this.world.subnets.find((s) => s.id === id);
      if (!subnet) throw new Error(`${from.name}.${input} names ${id}, which the account does not have`);
      return { cidrBlock: subnet.cidrBlock, vpc: subnet.vpcId, tags: subnet.tags };
    });
  }

  /** Whether `from`'s input admits the cluster security group (created: by dependency; existing: by id). */
  admitsClusterSecurityGroup(group: RecordedResource, port: number): boolean {
    const rules = group.inputs.ingress as { fromPort: number; toPort: number; protocol: string; securityGroups?: string[]; cidrBlocks?: string[] }[];
    const onPort = rules.filter((r) => r.protocol === "tcp" && r.fromPort <= port && port <= r.toPort);
    if (this.created()) return onPort.length > 0 && (group.propertyDependencies?.ingress ?? []).includes(this.clusterSecurityGroup());
    return onPort.some((r) => r.securityGroups?.includes(this.clusterSecurityGroup()));
  }
}

const world = defaultWorld(ACCOUNT_ID, "eu-west-1");
const graphs = {} as Record<StackName, Graph>;
beforeAll(async () => {
  for (const stack of STACKS) graphs[stack] = new Graph(await runProgram({ stack }), world);
});

describe.each(STACKS)("the %s stack closes", (stack) => {
  const graph = () => graphs[stack];
  const result = () => graphs[stack].result;

  it("puts the RDS and ElastiCache subnet groups in the cluster's VPC, in two zones or more", () => {
    const vpc = graph().clusterVpc();
    for (const type of [T.rdsSubnets, T.redisSubnets]) {
      const subnets = graph().subnets(one(result(), type), "subnetIds");
      expect(subnets.length, type).toBeGreaterThanOrEqual(2);
      for (const subnet of subnets) expect(subnet.vpc, `${type} ${subnet.cidrBlock}`).toBe(vpc);
    }
  });

  it("runs the drill's validation function in the cluster's VPC, in subnets with a route out to the AWS APIs it calls", () => {
    const fn = one(result(), "aws:lambda/function:Function");
    const vpc = graph().clusterVpc();
    if (graph().created()) {
      const subnets = graph().referenced(fn, "vpcConfig", T.subnet);
      expect(subnets.length).toBeGreaterThanOrEqual(2);
      const associations = ofType(result(), T.association);
      for (const subnet of subnets) {
        expect(graph().referenced(subnet, "vpcId", T.vpc)[0]?.urn, subnet.name).toBe(vpc);
        const tables = associations
          .filter((a) => graph().referenced(a, "subnetId", T.subnet).some((s) => s.urn === subnet.urn))
          .flatMap((a) => graph().referenced(a, "routeTableId", T.routeTable));
        const defaultRoutes = tables.flatMap((t) => (t.inputs.routes as { cidrBlock: string }[]).filter((r) => r.cidrBlock === "0.0.0.0/0"));
        const nats = tables.flatMap((t) => graph().referenced(t, "routes", "aws:ec2/natGateway:NatGateway"));
        expect(defaultRoutes.length, `${subnet.name} has a default route`).toBe(1);
        expect(nats.length, `${subnet.name} routes out through a NAT gateway`).toBe(1);
      }
    } else {
      // An existing cluster's node subnets are where its nodes pull images and call AWS: they route out.
      const cluster = world.clusters.find((c) => c.name === graph().clusterName());
      const subnetIds = (fn.inputs.vpcConfig as { subnetIds: string[] }).subnetIds;
      expect(subnetIds.length).toBeGreaterThanOrEqual(2);
      for (const id of subnetIds) expect(cluster?.subnetIds, id).toContain(id);
    }
  });

  it("admits PostgreSQL and Redis from the cluster's security group, on the ports the URLs name", () => {
    const secret = one(result(), T.secret).inputs.stringData as Record<string, string>;
    const database = one(result(), T.rds);
    const cache = one(result(), T.redis);
    const [dbGroup] = graph().referenced(database, "vpcSecurityGroupIds", T.securityGroup);
    const [cacheGroup] = graph().referenced(cache, "securityGroupIds", T.securityGroup);
    expect(dbGroup && graph().admitsClusterSecurityGroup(dbGroup, Number(new URL(secret.DATABASE_URL as string).port))).toBe(true);
    expect(cacheGroup && graph().admitsClusterSecurityGroup(cacheGroup, Number(new URL(secret.REDIS_URL as string).port))).toBe(true);
  });

  it("serves every Ingress's class with a load balancer controller on the same cluster, in public subnets of the cluster's VPC", () => {
    const controllers = ofType(result(), T.release).filter((r) => r.inputs.chart === "aws-load-balancer-controller");
    for (const ingress of ofType(result(), T.ingress)) {
      const className = (ingress.inputs.spec as { ingressClassName: string }).ingressClassName;
      const controller = controllers.find((c) => (c.inputs.values as { ingressClass?: string }).ingressClass === className && c.provider === ingress.provider);
      expect(controller, `${ingress.name} (${className})`).toBeDefined();
      expect((controller?.inputs.values as { clusterName: string }).clusterName).toBe(graph().clusterName());
      const annotations = (ingress.inputs.metadata as { annotations: Record<string, string> }).annotations;
      expect(annotations["alb.ingress.kubernetes.io/scheme"]).toBe("internet-facing");
      const subnetIds = annotations["alb.ingress.kubernetes.io/subnets"]?.split(",") ?? [];
      expect(subnetIds.length, "the ALB spans two zones or more").toBeGreaterThanOrEqual(2);
      if (!graph().created()) {
        for (const id of subnetIds) expect(world.subnets.find((s) => s.id === id)).toMatchObject({ vpcId: graph().clusterVpc(), tags: { "kubernetes.io/role/elb": "1" } });
      }
    }
  });

  it("pages from each alarm's own region: CloudWatch notifies only topics in its region, and SNS encrypts only with a key there", () => {
    const stackRegion = readStackFile(stack)["aws:region"] as string;
    const regionOf = (r: RecordedResource) => (typeof r.inputs.region === "string" ? r.inputs.region : stackRegion);
    const alarms = ofType(result(), T.alarm);
    expect(alarms.some((a) => regionOf(a) !== stackRegion), "the Route 53 health-check alarm lives in us-east-1").toBe(true);
    // An alarm without actions only feeds a composite alarm.
    for (const alarm of alarms.filter((a) => ((a.inputs.alarmActions as unknown[] | undefined) ?? []).length > 0)) {
      const topics = ["alarmActions", "okActions"].flatMap((input) => graph().referenced(alarm, input, T.topic));
      expect(topics.length, `${alarm.name} notifies a topic of this stack`).toBeGreaterThan(0);
      for (const topic of topics) {
        expect(regionOf(topic), `${alarm.name} -> ${topic.name}`).toBe(regionOf(alarm));
        for (const key of graph().referenced(topic, "kmsMasterKeyId", T.key)) expect(regionOf(key), `${topic.name} -> ${key.name}`).toBe(regionOf(topic));
      }
    }
  });

  it("gives the HorizontalPodAutoscaler a metrics source on the same cluster", () => {
    for (const hpa of ofType(result(), T.hpa)) {
      const metricsServer = ofType(result(), T.release).find((r) => r.inputs.chart === "metrics-server" && r.provider === hpa.provider);
      const eksAddon = ofType(result(), T.addon).find((a) => a.inputs.addonName === "metrics-server");
      expect(metricsServer ?? eksAddon, hpa.name).toBeDefined();
    }
  });

  describe("under the namespace's NetworkPolicies", () => {
    const namespace = () => (one(result(), T.namespace, "services-namespace").inputs.metadata as { name: string }).name;
    const policies = (): NamespacedPolicy[] =>
      ofType(result(), T.networkPolicy)
        .filter((p) => p.parentName === "services")
        .map((p) => ({ namespace: (p.inputs.metadata as { namespace: string }).namespace, spec: p.inputs.spec as NetworkPolicySpec }));
    const pods = () =>
      ofType(result(), T.deployment).map((d) => {
        const template = (d.inputs.spec as { template: { metadata: { labels: Record<string, string> }; spec: { containers: { ports: { name: string; containerPort: number }[] }[] } } }).template;
        const namedPorts = Object.fromEntries(template.spec.containers.flatMap((c) => c.ports.map((p) => [p.name, p.containerPort])));
        return { name: d.name, namespace: (d.inputs.metadata as { namespace: string }).namespace, labels: template.metadata.labels, namedPorts };
      });
    /** Where a URL's host lives: the data store whose endpoint it is (followed by reference) and its subnets. */
    const target = (key: "DATABASE_URL" | "REDIS_URL") => {
      const secret = one(result(), T.secret);
      const url = new URL((secret.inputs.stringData as Record<string, string>)[key] as string);
      const store = key === "DATABASE_URL" ? one(result(), T.rds) : one(result(), T.redis);
      expect(secret.propertyDependencies?.stringData, `${key} is built from ${store.name}`).toContain(store.urn);
      const subnetGroup = graph().referenced(store, key === "DATABASE_URL" ? "dbSubnetGroupName" : "subnetGroupName", key === "DATABASE_URL" ? T.rdsSubnets : T.redisSubnets)[0];
      if (!subnetGroup) throw new Error(`${store.name} names no subnet group of this stack`);
      return { port: Number(url.port), host: url.hostname, subnets: graph().subnets(subnetGroup, "subnetIds") };
    };

    it("denies everything not named, both ways", () => {
      const deny = policies().find((p) => Object.keys(p.spec.podSelector).length === 0);
      expect(deny?.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
      for (const pod of pods()) {
        expect(allowed(policies(), { pod, direction: "Egress", peer: { cidr: "198.51.100.7/32" }, protocol: "TCP", port: 22 }), pod.name).toBe(false);
        expect(allowed(policies(), { pod, direction: "Ingress", peer: { cidr: "198.51.100.7/32" }, protocol: "TCP", port: pod.namedPorts.http as number }), pod.name).toBe(false);
      }
    });

    it.each(["DATABASE_URL", "REDIS_URL"] as const)("lets each workload resolve and reach the host its %s names, at every address its subnets can give it", (key) => {
      const { port, subnets } = target(key);
      expect(subnets.length).toBeGreaterThanOrEqual(2);
      for (const pod of pods()) {
        expect(allowed(policies(), { pod, direction: "Egress", peer: { namespace: "kube-system", labels: { "k8s-app": "kube-dns" }, namespaceLabels: { "kubernetes.io/metadata.name": "kube-system" } }, protocol: "UDP", port: 53 }), `${pod.name} DNS`).toBe(true);
        for (const subnet of subnets) expect(allowed(policies(), { pod, direction: "Egress", peer: { cidr: subnet.cidrBlock }, protocol: "TCP", port }), `${pod.name} -> ${subnet.cidrBlock}:${port}`).toBe(true);
      }
    });

    it("lets the ALB (ip targets, in the public subnets) reach the API's port, and kubelet (on the nodes) probe the worker", () => {
      const ingress = one(result(), T.ingress);
      const publicRanges = graph().created()
        ? graph().referenced(ingress, "metadata", T.subnet).map((s) => s.inputs.cidrBlock as string)
        : ((ingress.inputs.metadata as { annotations: Record<string, string> }).annotations["alb.ingress.kubernetes.io/subnets"] ?? "").split(",").map((id) => world.subnets.find((s) => s.id === id)?.cidrBlock as string);
      expect(publicRanges.length).toBeGreaterThanOrEqual(2);
      const [api, worker] = ["api", "worker"].map((w) => pods().find((p) => p.labels["app.kubernetes.io/component"] === w) as ReturnType<typeof pods>[number]);
      for (const range of publicRanges) expect(allowed(policies(), { pod: api, direction: "Ingress", peer: { cidr: range }, protocol: "TCP", port: api.namedPorts.http as number }), range).toBe(true);
      const nodeRanges = graph().created()
        ? graph().subnets(one(result(), T.nodeGroup), "subnetIds").map((s) => s.cidrBlock)
        : (world.clusters.find((c) => c.name === graph().clusterName())?.subnetIds ?? []).map((id) => world.subnets.find((s) => s.id === id)?.cidrBlock as string);
      for (const range of nodeRanges) expect(allowed(policies(), { pod: worker, direction: "Ingress", peer: { cidr: range }, protocol: "TCP", port: worker.namedPorts.http as number }), range).toBe(true);
      for (const range of publicRanges) expect(allowed(policies(), { pod: worker, direction: "Ingress", peer: { cidr: range }, protocol: "TCP", port: worker.namedPorts.http as number }), `worker from ${range}`).toBe(false);
    });

    it("keeps the policies in the workloads' namespace", () => {
      expect(new Set(policies().map((p) => p.namespace))).toEqual(new Set([namespace()]));
      expect(new Set(pods().map((p) => p.namespace))).toEqual(new Set([namespace()]));
    });
  });
});

describe("cluster.mode create (staging): the ALB's subnets are public", () => {
  it("tagged for internet-facing load balancers, routed to an internet gateway of the cluster's VPC", () => {
    const graph = graphs.staging;
    const vpc = graph.clusterVpc();
    const ingress = one(graph.result, T.ingress);
    const subnets = graph.referenced(ingress, "metadata", T.subnet);
    expect(subnets.length).toBeGreaterThanOrEqual(2);
    const associations = ofType(graph.result, T.association);
    for (const subnet of subnets) {
      expect(subnet.inputs.tags, subnet.name).toMatchObject({ "kubernetes.io/role/elb": "1" });
      expect(graph.referenced(subnet, "vpcId", T.vpc)[0]?.urn).toBe(vpc);
      const tables = associations.filter((a) => graph.referenced(a, "subnetId", T.subnet).some((s) => s.urn === subnet.urn)).flatMap((a) => graph.referenced(a, "routeTableId", T.routeTable));
      const gateways = tables.flatMap((t) => graph.referenced(t, "routes", T.gateway));
      expect(gateways.length, `${subnet.name} has a route to an internet gateway`).toBe(1);
      expect((tables[0]?.inputs.routes as { cidrBlock: string }[]).some((r) => r.cidrBlock === "0.0.0.0/0")).toBe(true);
      expect(graph.referenced(gateways[0] as RecordedResource, "vpcId", T.vpc)[0]?.urn).toBe(vpc);
    }
  });
});

describe("the checks can fail", () => {
  it("the NetworkPolicy evaluator denies the data tier once the egress policy is gone", () => {
    const result = graphs.staging.result;
    const remaining: NamespacedPolicy[] = ofType(result, T.networkPolicy)
      .filter((p) => (p.inputs.metadata as { name: string }).name !== "app-egress")
      .map((p) => ({ namespace: (p.inputs.metadata as { namespace: string }).namespace, spec: p.inputs.spec as NetworkPolicySpec }));
    const deployment = one(result, T.deployment, "services-api");
    const labels = (deployment.inputs.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    expect(allowed(remaining, { pod: { namespace: "runbook", labels }, direction: "Egress", peer: { cidr: "10.40.208.0/22" }, protocol: "TCP", port: 5432 })).toBe(false);
  });
  it("a data subnet outside the cluster's VPC is seen as outside", () => {
    const graph = graphs.production;
    const foreign = { ...world, subnets: world.subnets.map((s) => ({ ...s, vpcId: "vpc-0eeeeeeeeeeeeeeee" })) };
    const moved = new Graph(graph.result, { ...foreign, clusters: world.clusters });
    expect(moved.subnets(one(graph.result, T.rdsSubnets), "subnetIds").every((s) => s.vpc !== moved.clusterVpc())).toBe(true);
    expect(cidrContains("10.50.0.0/16", "10.50.0.0/19")).toBe(true);
  });
});
