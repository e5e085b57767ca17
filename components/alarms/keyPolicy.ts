/**
 * The key policy of the CMK that encrypts the alarm topics (and, in the stack's region, the log
 * groups). The AWS-managed alias/aws/sns key cannot be used: its policy is fixed and grants only
 * principals in the account acting through SNS, so CloudWatch's service principal cannot
 * generate a data key with it and alarm notifications are dropped without an error
 * (SNS developer guide, "Enable compatibility between event sources from AWS services and
 * encrypted topics"). A customer managed key can name CloudWatch.
 */

export interface KeyPolicyInput {
  accountId: string;
  partition: string;
  region: string;
  /** Also let CloudWatch Logs encrypt this stack's log groups with the key. */
  logs: boolean;
}

export function alarmKeyPolicy({ accountId, partition, region, logs }: KeyPolicyInput): string {
  const sameAccount = { StringEquals: { "aws:SourceAccount": accountId } };
  const statements: Record<string, unknown>[] = [
    {
      Sid: "AccountAdministersTheKeyThroughIam",
      Effect: "Allow",
      Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
      Action: "kms:*",
      Resource: "*",
    },
    {
      Sid: "CloudWatchAlarmsPublishToEncryptedTopics",
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
      Resource: "*",
      Condition: {
        ...sameAccount,
        ArnLike: { "aws:SourceArn": `arn:${partition}:cloudwatch:${region}:${accountId}:alarm:*` },
      },
    },
    {
      Sid: "SnsDeliversFromEncryptedTopics",
      Effect: "Allow",
      Principal: { Service: "sns.amazonaws.com" },
      Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
      Resource: "*",
      Condition: sameAccount,
    },
  ];
  if (logs) {
    statements.push({
      Sid: "CloudWatchLogsEncryptsThisStacksLogGroups",
      Effect: "Allow",
      Principal: { Service: `logs.${region}.amazonaws.com` },
      Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
      Resource: "*",
      Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:${partition}:logs:${region}:${accountId}:log-group:*` } },
    });
  }
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}
