import * as pulumi from "@pulumi/pulumi";
import * as iam from "@pulumi/aws/iam";
import { Release } from "@pulumi/kubernetes/helm/v3/release";
import type { Provider } from "@pulumi/kubernetes/provider";
import { physicalName, type StackIdentity } from "../naming";
import { named } from "../protection";
import { irsaTrustPolicy } from "../services/workloads";
import { LOAD_BALANCER_CONTROLLER_POLICY } from "./loadBalancerControllerPolicy";

/** The IngressClass the controller serves and the API's Ingress names: one constant, both sides. */
export const INGRESS_CLASS = "alb";

/** A Helm chart pinned by version, from its publisher's repository. */
export interface PinnedChart {
  chart: string;
  version: string;
  repo: string;
}

/** kubernetes-sigs/aws-load-balancer-controller v3.5.0 (chart 3.5.0), from AWS's eks-charts repository. */
export const LOAD_BALANCER_CONTROLLER_CHART: PinnedChart = { chart: "aws-load-balancer-controller", version: "3.5.0", repo: "https://aws.github.io/eks-charts" };
/** kubernetes-sigs/metrics-server chart 3.13.0 (metrics-server v0.8.0). */
export const METRICS_SERVER_CHART: PinnedChart = { chart: "metrics-server", version: "3.13.0", repo: "https://kubernetes-sigs.github.io/metrics-server/" };

const ADDON_NAMESPACE = "kube-system";

/** A release of a pinned chart into kube-system, named after the chart. */
function release(resourceName: string, chart: PinnedChart, values: pulumi.Input<Record<string, unknown>>, opts: pulumi.CustomResourceOptions): Release {
  return new Release(
    resourceName,
    { name: chart.chart, namespace: ADDON_NAMESPACE, chart: chart.chart, version: chart.version, repositoryOpts: { repo: chart.repo }, values },
    opts,
  );
}
const CONTROLLER_SERVICE_ACCOUNT = "aws-load-balancer-controller";

export interface AddonsArgs {
  stack: StackIdentity;
  region: string;
  clusterName: pulumi.Input<string>;
  /** The cluster's VPC; given to the controller so it never depends on the instance metadata service. */
  vpcId: pulumi.Input<string>;
  /** The cluster's IAM OIDC provider and issuer (without https://), which the controller's IRSA role trusts. */
  oidcProviderArn: pulumi.Input<string>;
  oidcIssuer: pulumi.Input<string>;
  /** The cluster's Kubernetes provider. */
  provider: Provider;
  /** Install the AWS Load Balancer Controller (off where the cluster already runs one serving IngressClass `alb`). */
  loadBalancerController: boolean;
  /** Install metrics-server (off where the cluster already runs it, e.g. as the EKS add-on). */
  metricsServer: boolean;
  tags: Record<string, string>;
}

/**
 * The cluster add-ons the workloads rely on: the AWS Load Balancer Controller (turns the API's
 * Ingress into an ALB; IAM through IRSA with its documented policy) and metrics-server (the API's
 * HorizontalPodAutoscaler reads CPU from it). Each is a Helm release the plan shows with its values.
 */
export class Addons extends pulumi.ComponentResource {
  /** The IngressClass the Ingress must name. */
  public readonly ingressClassName: pulumi.Output<string>;
  /** The controller's IRSA role, when this stack installs it. */
  public readonly loadBalancerControllerRoleArn: pulumi.Output<string | undefined>;

  constructor(name: string, args: AddonsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook-platform:cluster:Addons", name, {}, opts);
    const k8sOpts = { parent: this, provider: args.provider };
    let roleArn: pulumi.Output<string | undefined> = pulumi.output(undefined);
    if (args.loadBalancerController) {
      const role = new iam.Role(
        `${name}-lb-controller`,
        {
          name: physicalName(args.stack, "lb-controller", "iam"),
          description: `AWS Load Balancer Controller (${ADDON_NAMESPACE}/${CONTROLLER_SERVICE_ACCOUNT}) through IRSA`,
          assumeRolePolicy: pulumi
            .all([args.oidcProviderArn, args.oidcIssuer])
            .apply(([providerArn, issuer]) => irsaTrustPolicy(providerArn, issuer, ADDON_NAMESPACE, CONTROLLER_SERVICE_ACCOUNT)),
          tags: args.tags,
        },
        named(this),
      );
      const policy = new iam.Policy(
        `${name}-lb-controller`,
        { name: physicalName(args.stack, "lb-controller", "iam"), description: "The AWS Load Balancer Controller's documented policy", policy: JSON.stringify(LOAD_BALANCER_CONTROLLER_POLICY), tags: args.tags },
        named(this),
      );
      const attachment = new iam.RolePolicyAttachment(`${name}-lb-controller`, { role: role.name, policyArn: policy.arn }, { parent: this });
      release(
        `${name}-lb-controller`,
        LOAD_BALANCER_CONTROLLER_CHART,
        {
          clusterName: args.clusterName,
          region: args.region,
          vpcId: args.vpcId,
          replicaCount: 2,
          ingressClass: INGRESS_CLASS,
          createIngressClassResource: true,
          serviceAccount: { create: true, name: CONTROLLER_SERVICE_ACCOUNT, annotations: { "eks.amazonaws.com/role-arn": role.arn } },
        },
        { ...k8sOpts, dependsOn: [attachment] },
      );
      roleArn = role.arn;
    }
    if (args.metricsServer) {
      // Two replicas behind a PodDisruptionBudget: a node drain never leaves the autoscaler blind.
      release(`${name}-metrics-server`, METRICS_SERVER_CHART, { replicas: 2, podDisruptionBudget: { enabled: true, minAvailable: 1 } }, k8sOpts);
    }
    this.ingressClassName = pulumi.output(INGRESS_CLASS);
    this.loadBalancerControllerRoleArn = roleArn;
    this.registerOutputs({ ingressClassName: this.ingressClassName, loadBalancerControllerRoleArn: this.loadBalancerControllerRoleArn });
  }
}
