import type { PolicyDocument, PolicyStatement } from "@pulumi/aws/iam/documents";

/**
 * The IAM policy the AWS Load Balancer Controller documents for itself
 * (kubernetes-sigs/aws-load-balancer-controller, docs/install/iam_policy.json at v3.5.0, the
 * chart version installed here), as typed statements with Sids. Writes are limited the way the
 * documented policy limits them: to security groups, load balancers and target groups tagged
 * `elbv2.k8s.aws/cluster` (what the controller tags everything it creates with).
 */

const CLUSTER_TAG = "elbv2.k8s.aws/cluster";
const TARGET_GROUPS_AND_LOAD_BALANCERS = [
  "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
  "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*",
  "arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*",
];
/** The request creates a resource tagged for a cluster. */
const taggedRequest = { Null: { [`aws:RequestTag/${CLUSTER_TAG}`]: "false" } };
/** The resource is one the controller created (it carries the cluster tag). */
const taggedResource = { Null: { [`aws:ResourceTag/${CLUSTER_TAG}`]: "false" } };
/** Tag changes that never remove the cluster tag from a controller-owned resource. */
const keepsClusterTag = { Null: { [`aws:RequestTag/${CLUSTER_TAG}`]: "true", [`aws:ResourceTag/${CLUSTER_TAG}`]: "false" } };

const allow = (Sid: string, Action: string[], Resource: string | string[], Condition?: PolicyStatement["Condition"]): PolicyStatement => ({
  Sid,
  Effect: "Allow",
  Action,
  Resource,
  ...(Condition ? { Condition } : {}),
});

const STATEMENTS: PolicyStatement[] = [
  allow("CreateElbServiceLinkedRole", ["iam:CreateServiceLinkedRole"], "*", { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } }),
  allow(
    "Describe",
    [
      "ec2:DescribeAccountAttributes",
      "ec2:DescribeAddresses",
      "ec2:DescribeAvailabilityZones",
      "ec2:DescribeInternetGateways",
      "ec2:DescribeVpcs",
      "ec2:DescribeVpcPeeringConnections",
      "ec2:DescribeSubnets",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeInstances",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeTags",
      "ec2:GetCoipPoolUsage",
      "ec2:DescribeCoipPools",
      "ec2:GetSecurityGroupsForVpc",
      "ec2:DescribeIpamPools",
      "ec2:DescribeRouteTables",
      "elasticloadbalancing:DescribeLoadBalancers",
      "elasticloadbalancing:DescribeLoadBalancerAttributes",
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeListenerCertificates",
      "elasticloadbalancing:DescribeSSLPolicies",
      "elasticloadbalancing:DescribeRules",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetGroupAttributes",
      "elasticloadbalancing:DescribeTargetHealth",
      "elasticloadbalancing:DescribeTags",
      "elasticloadbalancing:DescribeTrustStores",
      "elasticloadbalancing:DescribeListenerAttributes",
      "elasticloadbalancing:DescribeCapacityReservation",
    ],
    "*",
  ),
  allow(
    "CertificatesWafShield",
    [
      "cognito-idp:DescribeUserPoolClient",
      "acm:ListCertificates",
      "acm:DescribeCertificate",
      "iam:ListServerCertificates",
      "iam:GetServerCertificate",
      "waf-regional:GetWebACL",
      "waf-regional:GetWebACLForResource",
      "waf-regional:AssociateWebACL",
      "waf-regional:DisassociateWebACL",
      "wafv2:GetWebACL",
      "wafv2:GetWebACLForResource",
      "wafv2:AssociateWebACL",
      "wafv2:DisassociateWebACL",
      "shield:GetSubscriptionState",
      "shield:DescribeProtection",
      "shield:CreateProtection",
      "shield:DeleteProtection",
    ],
    "*",
  ),
  allow("SecurityGroupRules", ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"], "*"),
  allow("CreateSecurityGroup", ["ec2:CreateSecurityGroup"], "*"),
  allow("TagNewSecurityGroup", ["ec2:CreateTags"], "arn:aws:ec2:*:*:security-group/*", { StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" }, ...taggedRequest }),
  allow("TagOwnSecurityGroups", ["ec2:CreateTags", "ec2:DeleteTags"], "arn:aws:ec2:*:*:security-group/*", keepsClusterTag),
  allow("ManageOwnSecurityGroups", ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"], "*", taggedResource),
  allow("CreateTaggedLoadBalancers", ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"], "*", taggedRequest),
  allow("ListenersAndRules", ["elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener", "elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteRule"], "*"),
  allow("TagOwnLoadBalancers", ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"], TARGET_GROUPS_AND_LOAD_BALANCERS, keepsClusterTag),
  allow("TagListenersAndRules", ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"], [
    "arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*",
    "arn:aws:elasticloadbalancing:*:*:listener/app/*/*/*",
    "arn:aws:elasticloadbalancing:*:*:listener-rule/net/*/*/*",
    "arn:aws:elasticloadbalancing:*:*:listener-rule/app/*/*/*",
  ]),
  allow(
    "ManageOwnLoadBalancers",
    [
      "elasticloadbalancing:ModifyLoadBalancerAttributes",
      "elasticloadbalancing:SetIpAddressType",
      "elasticloadbalancing:SetSecurityGroups",
      "elasticloadbalancing:SetSubnets",
      "elasticloadbalancing:DeleteLoadBalancer",
      "elasticloadbalancing:ModifyTargetGroup",
      "elasticloadbalancing:ModifyTargetGroupAttributes",
      "elasticloadbalancing:DeleteTargetGroup",
      "elasticloadbalancing:ModifyListenerAttributes",
      "elasticloadbalancing:ModifyCapacityReservation",
      "elasticloadbalancing:ModifyIpPools",
    ],
    "*",
    taggedResource,
  ),
  allow("TagOnCreate", ["elasticloadbalancing:AddTags"], TARGET_GROUPS_AND_LOAD_BALANCERS, {
    StringEquals: { "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"] },
    ...taggedRequest,
  }),
  allow("RegisterTargets", ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"], "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*"),
  allow(
    "ListenerSettings",
    [
      "elasticloadbalancing:SetWebAcl",
      "elasticloadbalancing:ModifyListener",
      "elasticloadbalancing:AddListenerCertificates",
      "elasticloadbalancing:RemoveListenerCertificates",
      "elasticloadbalancing:ModifyRule",
      "elasticloadbalancing:SetRulePriorities",
    ],
    "*",
  ),
];

/** The controller's documented policy (see the file header). */
export const LOAD_BALANCER_CONTROLLER_POLICY: PolicyDocument = { Version: "2012-10-17", Statement: STATEMENTS };
