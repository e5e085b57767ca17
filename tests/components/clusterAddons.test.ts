import { beforeAll, describe, expect, it } from "vitest";
import { INGRESS_CLASS, LOAD_BALANCER_CONTROLLER_CHART, METRICS_SERVER_CHART } from "../../components/cluster/addons";
import { LOAD_BALANCER_CONTROLLER_POLICY } from "../../components/cluster/loadBalancerControllerPolicy";
import { ACCOUNT_ID, one, ofType, type ProgramResult, runProgram } from "../support/harness";

type Statement = { Sid: string; Effect: string; Action: string[]; Resource: string | string[]; Condition?: Record<string, Record<string, unknown>> };

describe.each(["staging", "production"] as const)("cluster add-ons in %s", (stack) => {
  let result: ProgramResult;
  beforeAll(async () => {
    result = await runProgram({ stack });
  });

  it("installs the AWS Load Balancer Controller from its pinned chart, for this cluster's VPC and region, serving the Ingress's class", () => {
    const release = one(result, "kubernetes:helm.sh/v3:Release", "cluster-addons-lb-controller");
    expect(release.inputs).toMatchObject({
      name: "aws-load-balancer-controller",
      namespace: "kube-system",
      chart: LOAD_BALANCER_CONTROLLER_CHART.chart,
      version: "3.5.0",
      repositoryOpts: { repo: "https://aws.github.io/eks-charts" },
      values: {
        clusterName: result.outputs.clusterName,
        region: "eu-west-1",
        vpcId: result.outputs.vpcId,
        ingressClass: INGRESS_CLASS,
        createIngressClassResource: true,
        serviceAccount: { create: true, name: "aws-load-balancer-controller", annotations: { "eks.amazonaws.com/role-arn": `arn:aws:iam::${ACCOUNT_ID}:role/runbook-${stack}-lb-controller` } },
      },
    });
    expect((one(result, "kubernetes:networking.k8s.io/v1:Ingress").inputs.spec as { ingressClassName: string }).ingressClassName).toBe(INGRESS_CLASS);
    expect(release.provider).toBe(one(result, "kubernetes:apps/v1:Deployment", "services-api").provider);
  });

  it("gives the controller an IRSA role trusting only its service account, with its documented policy attached", () => {
    const role = one(result, "aws:iam/role:Role", "cluster-addons-lb-controller");
    const trust = JSON.parse(role.inputs.assumeRolePolicy as string) as { Statement: { Principal: { Federated: string }; Condition: { StringEquals: Record<string, string> } }[] };
    expect(trust.Statement[0]?.Principal.Federated).toBe(result.outputs.oidcProviderArn);
    expect(trust.Statement[0]?.Condition.StringEquals).toEqual({
      [`${String(result.outputs.oidcIssuer)}:sub`]: "system:serviceaccount:kube-system:aws-load-balancer-controller",
      [`${String(result.outputs.oidcIssuer)}:aud`]: "sts.amazonaws.com",
    });
    const policy = one(result, "aws:iam/policy:Policy", "cluster-addons-lb-controller");
    expect(JSON.parse(policy.inputs.policy as string)).toEqual(LOAD_BALANCER_CONTROLLER_POLICY);
    const attachment = one(result, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "cluster-addons-lb-controller");
    expect(attachment.propertyDependencies?.policyArn).toContain(policy.urn);
    expect(attachment.propertyDependencies?.role).toContain(role.urn);
  });

  it("installs metrics-server from its pinned chart, two replicas under a disruption budget", () => {
    expect(one(result, "kubernetes:helm.sh/v3:Release", "cluster-addons-metrics-server").inputs).toMatchObject({
      name: "metrics-server",
      namespace: "kube-system",
      chart: METRICS_SERVER_CHART.chart,
      version: "3.13.0",
      values: { replicas: 2, podDisruptionBudget: { enabled: true, minAvailable: 1 } },
    });
  });
});

describe("the controller's policy", () => {
  const statements = LOAD_BALANCER_CONTROLLER_POLICY.Statement as Statement[];
  it("limits every create, modify and delete of load balancers, target groups and security groups to what the controller tagged", () => {
    const writes = statements.filter((s) => s.Action.some((a) => /^(elasticloadbalancing:(Create(LoadBalancer|TargetGroup)|Delete(LoadBalancer|TargetGroup)|Modify(LoadBalancer|TargetGroup))|ec2:DeleteSecurityGroup)/.test(a)));
    expect(writes.map((s) => s.Sid).sort()).toEqual(["CreateTaggedLoadBalancers", "ManageOwnLoadBalancers", "ManageOwnSecurityGroups"]);
    for (const s of writes) expect(JSON.stringify(s.Condition), s.Sid).toContain("elbv2.k8s.aws/cluster");
  });
  it("has unique Sids and grants no IAM action beyond the ELB service-linked role and server certificates", () => {
    expect(new Set(statements.map((s) => s.Sid)).size).toBe(statements.length);
    const iamActions = statements.flatMap((s) => s.Action).filter((a) => a.startsWith("iam:"));
    expect(iamActions.sort()).toEqual(["iam:CreateServiceLinkedRole", "iam:GetServerCertificate", "iam:ListServerCertificates"]);
  });
});

describe("each add-on can be switched off where the cluster already runs it", () => {
  it("installs neither (nor the controller's role) when both are off", async () => {
    const result = await runProgram({ stack: "production", config: { cluster: { addons: { loadBalancerController: false, metricsServer: false } } } });
    expect(ofType(result, "kubernetes:helm.sh/v3:Release")).toEqual([]);
    expect(ofType(result, "aws:iam/role:Role").filter((r) => r.name.startsWith("cluster-addons"))).toEqual([]);
    expect((one(result, "kubernetes:networking.k8s.io/v1:Ingress").inputs.spec as { ingressClassName: string }).ingressClassName).toBe(INGRESS_CLASS);
  });
});
