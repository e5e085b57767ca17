import { beforeAll, describe, expect, it } from "vitest";
import { cidrContains, cidrsOverlap, subnetLayout } from "../../components/cluster/layout";
import { amiTypeFor, CLUSTER_ADMIN_POLICY_ARN, CONTROL_PLANE_LOG_TYPES } from "../../components/cluster/eks";
import { ConfigError } from "../../config";
import { type AwsWorld, defaultWorld } from "../support/awsWorld";
import { ACCOUNT_ID, one, ofType, type ProgramResult, ProgramError, type RecordedResource, runProgram } from "../support/harness";

const world = () => defaultWorld(ACCOUNT_ID, "eu-west-1");
const DEPLOY_ROLE = "arn:aws:iam::123456789012:role/runbook-staging-deployments";
/** Production's settings turned into a create stack, to see what differs in production. */
const PRODUCTION_CREATE = {
  cluster: { mode: "create", name: "runbook-production", version: "1.33", publicAccessCidrs: [], nodeGroup: { instanceTypes: ["m7i.large"], minSize: 3, desiredSize: 3, maxSize: 6 }, addons: { loadBalancerController: true, metricsServer: true } },
  network: { vpcCidr: "10.60.0.0/16", availabilityZoneCount: 3 },
};

const byName = (result: ProgramResult, type: string) => new Map(ofType(result, type).map((r) => [r.name, r]));
const dependsOn = (resource: RecordedResource, input: string, target: RecordedResource) => resource.propertyDependencies?.[input]?.includes(target.urn) ?? false;

describe("subnetLayout and CIDR arithmetic", () => {
  it("gives each zone a private /18, a public /22 and an isolated /22, none overlapping, all inside the VPC", () => {
    const layout = subnetLayout("10.40.0.0/16", 3);
    expect(layout.map((s) => `${s.tier}:${s.zone}:${s.cidrBlock}`)).toEqual([
      "private:0:10.40.0.0/18",
      "private:1:10.40.64.0/18",
      "private:2:10.40.128.0/18",
      "public:0:10.40.192.0/22",
      "public:1:10.40.196.0/22",
      "public:2:10.40.200.0/22",
      "isolated:0:10.40.208.0/22",
      "isolated:1:10.40.212.0/22",
      "isolated:2:10.40.216.0/22",
    ]);
    for (const [i, a] of layout.entries()) {
      expect(cidrContains("10.40.0.0/16", a.cidrBlock)).toBe(true);
      for (const b of layout.slice(i + 1)) expect(cidrsOverlap(a.cidrBlock, b.cidrBlock), `${a.cidrBlock} ${b.cidrBlock}`).toBe(false);
    }
  });
  it("refuses a VPC smaller than a /16 and more than three zones", () => {
    expect(() => subnetLayout("10.40.0.0/17", 2)).toThrow("subnetLayout: 10.40.0.0/17 is smaller than a /16");
    expect(() => subnetLayout("10.40.0.0/16", 4)).toThrow("subnetLayout: 4 zones; the layout holds 1 to 3");
  });
  it("knows overlap and containment at any prefix", () => {
    expect(cidrsOverlap("10.40.0.0/16", "10.40.255.0/24")).toBe(true);
    expect(cidrsOverlap("10.40.0.0/16", "10.41.0.0/16")).toBe(false);
    expect(cidrsOverlap("0.0.0.0/0", "192.168.1.0/24")).toBe(true);
    expect(cidrContains("10.40.0.0/16", "10.40.0.0/15")).toBe(false);
  });
  it("picks the ARM AMI only when every instance type is Graviton", () => {
    expect(amiTypeFor(["m7g.large", "c6gn.xlarge"])).toBe("AL2023_ARM_64_STANDARD");
    expect(amiTypeFor(["m7g.large", "m7i.large"])).toBe("AL2023_x86_64_STANDARD");
  });
});

describe("cluster.mode create (staging)", () => {
  let result: ProgramResult;
  beforeAll(async () => {
    result = await runProgram({ stack: "staging" });
  });
  const subnet = (name: string) => one(result, "aws:ec2/subnet:Subnet", name);

  it("builds a three-tier VPC across two zones, subnets tagged for the load balancer controller", () => {
    const vpc = one(result, "aws:ec2/vpc:Vpc");
    expect(vpc.inputs).toMatchObject({ cidrBlock: "10.40.0.0/16", enableDnsHostnames: true, enableDnsSupport: true });
    const subnets = ofType(result, "aws:ec2/subnet:Subnet");
    expect(subnets.map((s) => [s.name, s.inputs.cidrBlock, s.inputs.availabilityZone]).sort()).toEqual(
      [
        ["cluster-private-a", "10.40.0.0/18", "eu-west-1a"],
        ["cluster-private-b", "10.40.64.0/18", "eu-west-1b"],
        ["cluster-public-a", "10.40.192.0/22", "eu-west-1a"],
        ["cluster-public-b", "10.40.196.0/22", "eu-west-1b"],
        ["cluster-isolated-a", "10.40.208.0/22", "eu-west-1a"],
        ["cluster-isolated-b", "10.40.212.0/22", "eu-west-1b"],
      ].sort(),
    );
    for (const s of subnets) {
      expect(dependsOn(s, "vpcId", vpc), s.name).toBe(true);
      expect(s.inputs.mapPublicIpOnLaunch).toBe(false);
    }
    expect(subnet("cluster-public-a").inputs.tags).toMatchObject({ "kubernetes.io/role/elb": "1", "kubernetes.io/cluster/runbook-staging": "shared" });
    expect(subnet("cluster-private-a").inputs.tags).toMatchObject({ "kubernetes.io/role/internal-elb": "1" });
    expect(Object.keys(subnet("cluster-isolated-a").inputs.tags as object).filter((k) => k.startsWith("kubernetes.io/"))).toEqual([]);
  });

  it("routes public subnets to an internet gateway, private ones through one shared NAT gateway, isolated ones nowhere", () => {
    const tables = byName(result, "aws:ec2/routeTable:RouteTable");
    const gateway = one(result, "aws:ec2/internetGateway:InternetGateway");
    const nats = ofType(result, "aws:ec2/natGateway:NatGateway");
    expect(nats.map((n) => n.name)).toEqual(["cluster-nat-a"]);
    expect(dependsOn(nats[0] as RecordedResource, "subnetId", subnet("cluster-public-a"))).toBe(true);
    expect(tables.get("cluster-public-routes")?.inputs.routes).toEqual([{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.inputs.id ?? expect.any(String) }]);
    expect(dependsOn(tables.get("cluster-public-routes") as RecordedResource, "routes", gateway)).toBe(true);
    for (const zone of ["a", "b"]) {
      const table = tables.get(`cluster-private-${zone}-routes`) as RecordedResource;
      expect(dependsOn(table, "routes", nats[0] as RecordedResource), zone).toBe(true);
    }
    expect(tables.get("cluster-isolated-routes")?.inputs.routes).toEqual([]);
    const associations = byName(result, "aws:ec2/routeTableAssociation:RouteTableAssociation");
    for (const [association, table, sub] of [
      ["cluster-public-b", "cluster-public-routes", "cluster-public-b"],
      ["cluster-private-b", "cluster-private-b-routes", "cluster-private-b"],
      ["cluster-isolated-b", "cluster-isolated-routes", "cluster-isolated-b"],
    ] as const) {
      const a = associations.get(association) as RecordedResource;
      expect(dependsOn(a, "routeTableId", tables.get(table) as RecordedResource), association).toBe(true);
      expect(dependsOn(a, "subnetId", subnet(sub)), association).toBe(true);
    }
  });

  it("creates EKS with a private endpoint, a public one for the configured CIDRs, KMS-encrypted Secrets, every control-plane log, and API access entries only", () => {
    const eks = one(result, "aws:eks/cluster:Cluster");
    const key = one(result, "aws:kms/key:Key", "cluster-secrets-key");
    expect(eks.inputs).toMatchObject({
      name: "runbook-staging",
      version: "1.33",
      vpcConfig: { endpointPrivateAccess: true, endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] },
      encryptionConfig: { resources: ["secrets"] },
      enabledClusterLogTypes: CONTROL_PLANE_LOG_TYPES,
      accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false },
      bootstrapSelfManagedAddons: false,
    });
    expect(dependsOn(eks, "encryptionConfig", key)).toBe(true);
    expect(key.inputs.enableKeyRotation).toBe(true);
    // Staging can be destroyed, but never its Secrets' key: it is kept in the account.
    expect([eks.options, key.options]).toEqual([expect.objectContaining({ deleteBeforeReplace: true }), { retainOnDelete: true }]);
    expect(eks.options.protect).toBeUndefined();
    for (const zone of ["a", "b"]) expect(dependsOn(eks, "vpcConfig", subnet(`cluster-private-${zone}`))).toBe(true);
    expect(one(result, "aws:cloudwatch/logGroup:LogGroup", "cluster-control-plane-logs").inputs).toMatchObject({ name: "/aws/eks/runbook-staging/cluster", retentionInDays: 90 });
  });

  it("runs a managed node group in the private subnets, the IAM OIDC provider of the cluster's issuer, the core add-ons with network policy on, and admin access for the deploy role", () => {
    const eks = one(result, "aws:eks/cluster:Cluster");
    const nodes = one(result, "aws:eks/nodeGroup:NodeGroup");
    expect(nodes.inputs).toMatchObject({ instanceTypes: ["m7g.large"], amiType: "AL2023_ARM_64_STANDARD", scalingConfig: { minSize: 2, desiredSize: 2, maxSize: 4 } });
    expect(dependsOn(nodes, "subnetIds", subnet("cluster-private-a")) && dependsOn(nodes, "subnetIds", subnet("cluster-private-b"))).toBe(true);
    const oidc = one(result, "aws:iam/openIdConnectProvider:OpenIdConnectProvider");
    expect(dependsOn(oidc, "url", eks)).toBe(true);
    expect(oidc.inputs.clientIdLists).toEqual(["sts.amazonaws.com"]);
    expect(result.outputs.oidcProviderArn).toBe(`arn:aws:iam::${ACCOUNT_ID}:oidc-provider/${String(result.outputs.oidcIssuer)}`);
    const addons = ofType(result, "aws:eks/addon:Addon");
    expect(addons.map((a) => a.inputs.addonName).sort()).toEqual(["coredns", "kube-proxy", "vpc-cni"]);
    expect(JSON.parse(addons.find((a) => a.inputs.addonName === "vpc-cni")?.inputs.configurationValues as string)).toEqual({ enableNetworkPolicy: "true" });
    expect(one(result, "aws:eks/accessEntry:AccessEntry").inputs).toMatchObject({ principalArn: DEPLOY_ROLE, type: "STANDARD" });
    expect(one(result, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation").inputs).toMatchObject({ policyArn: CLUSTER_ADMIN_POLICY_ARN, accessScope: { type: "cluster" } });
  });

  it("exports the node subnets apart from the data tier's (in-VPC work that calls AWS APIs needs the NAT route)", () => {
    const privateIds = result.outputs.privateSubnetIds as string[];
    expect(privateIds).toHaveLength(2);
    expect(privateIds.filter((id) => (result.outputs.dataSubnetIds as string[]).includes(id))).toEqual([]);
  });

  it("names every child after the component", () => {
    const kids = result.resources.filter((r) => r.parentName === "cluster");
    expect(kids.length).toBeGreaterThan(30);
    for (const kid of kids) expect(kid.name.startsWith("cluster-"), kid.name).toBe(true);
  });
});

describe("cluster.mode create: what differs in production", () => {
  it("one NAT gateway per zone, each private subnet routed through its own zone's; the cluster and its key protected", async () => {
    const result = await runProgram({ stack: "production", config: PRODUCTION_CREATE });
    const nats = byName(result, "aws:ec2/natGateway:NatGateway");
    expect([...nats.keys()].sort()).toEqual(["cluster-nat-a", "cluster-nat-b", "cluster-nat-c"]);
    const tables = byName(result, "aws:ec2/routeTable:RouteTable");
    for (const zone of ["a", "b", "c"]) {
      expect(dependsOn(tables.get(`cluster-private-${zone}-routes`) as RecordedResource, "routes", nats.get(`cluster-nat-${zone}`) as RecordedResource), zone).toBe(true);
    }
    const eks = one(result, "aws:eks/cluster:Cluster");
    expect(eks.inputs.vpcConfig).toMatchObject({ endpointPrivateAccess: true, endpointPublicAccess: false });
    expect(eks.inputs.deletionProtection).toBe(true);
    expect(eks.options).toMatchObject({ protect: true, deleteBeforeReplace: true });
    expect(one(result, "aws:kms/key:Key", "cluster-secrets-key").options).toEqual({ protect: true, retainOnDelete: true });
  });
});

describe("cluster.mode existing (production)", () => {
  let result: ProgramResult;
  beforeAll(async () => {
    result = await runProgram({ stack: "production" });
  });

  it("creates no VPC, subnet, gateway or EKS resource", () => {
    const created = result.resources.filter((r) => /^aws:(ec2\/(vpc|subnet|internetGateway|natGateway|routeTable)|eks\/)/.test(r.type));
    expect(created).toEqual([]);
  });

  it("wires everything from the cluster the account reports: VPC, private subnets by tag, security group, OIDC provider", () => {
    const cluster = world().clusters[0];
    const internal = world().subnets.filter((s) => s.tags["kubernetes.io/role/internal-elb"] === "1").map((s) => s.id);
    expect(result.outputs).toMatchObject({
      clusterName: "platform-production",
      vpcId: cluster?.vpcId,
      vpcCidr: "10.50.0.0/16",
      clusterSecurityGroupId: cluster?.clusterSecurityGroupId,
      dataSubnetIds: internal,
      privateSubnetIds: cluster?.subnetIds,
      oidcIssuer: cluster?.oidcIssuer.replace("https://", ""),
      oidcProviderArn: `arn:aws:iam::${ACCOUNT_ID}:oidc-provider/${cluster?.oidcIssuer.replace("https://", "")}`,
    });
    expect(one(result, "aws:rds/subnetGroup:SubnetGroup").inputs.subnetIds).toEqual(internal);
  });

  it("authenticates the Kubernetes provider with aws eks get-token against the cluster's endpoint and CA, as a secret", () => {
    const cluster = world().clusters[0];
    const provider = one(result, "pulumi:providers:kubernetes");
    expect(provider.secretPaths).toContain("kubeconfig");
    const kubeconfig = JSON.parse(provider.inputs.kubeconfig as string);
    expect(kubeconfig.clusters[0].cluster).toEqual({ server: cluster?.endpoint, "certificate-authority-data": cluster?.certificateAuthority });
    expect(kubeconfig.users[0].user.exec).toMatchObject({ command: "aws", args: ["eks", "get-token", "--cluster-name", "platform-production", "--region", "eu-west-1", "--output", "json"] });
  });

  it("takes the secret kubeconfig as an explicit override, and keeps it secret", async () => {
    const kubeconfig = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n";
    const provider = one(await runProgram({ stack: "production", secrets: { kubeconfig } }), "pulumi:providers:kubernetes");
    expect(provider.inputs.kubeconfig).toBe(kubeconfig);
    expect(provider.secretPaths).toContain("kubeconfig");
  });

  it("uses network.dataSubnetIds when set", async () => {
    const chosen = world().subnets.filter((s) => s.tags.Name?.includes("private")).slice(0, 2).map((s) => s.id);
    const custom = await runProgram({ stack: "production", config: { network: { dataSubnetIds: chosen } } });
    expect(one(custom, "aws:elasticache/subnetGroup:SubnetGroup").inputs.subnetIds).toEqual(chosen);
  });
});

describe("a lookup that finds nothing stops the preview before anything is registered, naming the key to fix", () => {
  const refused = async (options: { config?: Record<string, unknown>; world?: AwsWorld }, key: string, detail: string) => {
    const failure = await runProgram({ stack: "production", ...options }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ProgramError);
    expect((failure as ProgramError).cause).toBeInstanceOf(ConfigError);
    expect((failure as ProgramError).resources).toEqual([]);
    expect((failure as ProgramError).message).toContain(`runbook-platform:${key}: got`);
    expect((failure as ProgramError).message).toContain(detail);
  };

  it("a cluster name the account does not have", () =>
    refused({ config: { cluster: { name: "platform-prod" } } }, "cluster.name", "couldn't find resource"));
  it("a cluster without an IAM OIDC provider", () => refused({ world: { ...world(), oidcProviders: [] } }, "cluster.name", "eksctl utils associate-iam-oidc-provider"));
  it("a VPC without subnets tagged for internal load balancers", () =>
    refused({ world: { ...world(), subnets: world().subnets.map((s) => ({ ...s, tags: { Name: s.tags.Name ?? "" } })) } }, "network.dataSubnetIds", "tagged kubernetes.io/role/internal-elb=1 (found 0)"));
  it("data subnets of another VPC", () => {
    const w = world();
    const foreign = { id: "subnet-0ffffffffffffffff", vpcId: "vpc-0eeeeeeeeeeeeeeee", cidrBlock: "172.16.0.0/24", availabilityZone: "eu-west-1a", tags: {} };
    const own = w.subnets[1]?.id as string;
    return refused({ world: { ...w, subnets: [...w.subnets, foreign] }, config: { network: { dataSubnetIds: [foreign.id, own] } } }, "network.dataSubnetIds", "pods reach the data tier only inside it");
  });
  it("a VPC with no public subnets for the internet-facing ALB", () =>
    refused({ world: { ...world(), subnets: world().subnets.filter((s) => !s.tags["kubernetes.io/role/elb"]) } }, "cluster.name", "tagged kubernetes.io/role/elb=1"));
});
