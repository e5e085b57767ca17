import * as pulumi from "@pulumi/pulumi";
import * as cloudwatch from "@pulumi/aws/cloudwatch";
import * as kms from "@pulumi/aws/kms";
import * as route53 from "@pulumi/aws/route53";
import * as sns from "@pulumi/aws/sns";
import { getCallerIdentityOutput } from "@pulumi/aws/getCallerIdentity";
import { getPartitionOutput } from "@pulumi/aws/getPartition";
import { HEALTH_PATHS, HEALTH_READY_MATCH, type AlarmRoute } from "../../runbook";
import { physicalName } from "../naming";
import { stateful } from "../protection";
import { logGroupName, metricNamespace, singleMetric, slug, toMetricQuery, validateAlarmsArgs, type AlarmsArgs } from "./args";
import { alarmDefinitions, HEALTH_CHECK_METRICS_REGION, webhookComposite, type AlarmDefinition } from "./definitions";
import { dashboardBody } from "./dashboard";
import { alarmKeyPolicy } from "./keyPolicy";
import { METRIC_FILTERS, REQUEST_ID_QUERY, type LogSource } from "./logContract";

export { cacheMemberClusterIds, validateAlarmsArgs, type AlarmsArgs } from "./args";

/** Route 53 checks every 10 s (fast interval) and needs 3 failures: unhealthy within ~30 s. */
const HEALTH_CHECK_REQUEST_INTERVAL_SECONDS = 10;
const HEALTH_CHECK_FAILURE_THRESHOLD = 3;

/**
 * The runbook's "Alerts and on-call thresholds" as CloudWatch alarms, plus what the incident steps
 * check: KMS-encrypted page and ticket topics, the application's log groups and metric filters,
 * a Route 53 readiness check, an incident dashboard and a saved query by X-Request-Id.
 */
export class Alarms extends pulumi.ComponentResource {
  /** Page topic (on-call) in the stack's region. */
  public readonly pageTopicArn: pulumi.Output<string>;
  /** Page topic in us-east-1, where the health alarm lives (the same topic when the stack is there). */
  public readonly healthPageTopicArn: pulumi.Output<string>;
  /** High-priority ticket topic. */
  public readonly ticketTopicArn: pulumi.Output<string>;
  public readonly apiLogGroupName: pulumi.Output<string>;
  public readonly workerLogGroupName: pulumi.Output<string>;
  /** ARNs of the API and worker log groups: the only groups the log router may write to. */
  public readonly apiLogGroupArn: pulumi.Output<string>;
  public readonly workerLogGroupArn: pulumi.Output<string>;
  public readonly healthCheckId: pulumi.Output<string>;
  public readonly dashboardName: pulumi.Output<string>;
  public readonly requestIdQueryName: pulumi.Output<string>;
  /** Alarm names keyed by definition key (e.g. `api-5xx-rate`, `webhook-invalid-signature-spike`). */
  public readonly alarmNames: pulumi.Output<Record<string, string>>;
  public readonly kmsKeyArn: pulumi.Output<string>;

  constructor(name: string, args: AlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook-platform:alarms:Alarms", name, {}, opts);
    validateAlarmsArgs(args);
    const { stack, region, tags } = args;
    const readyPath = args.readyPath ?? HEALTH_PATHS.ready;
    const readyMatch = args.readyMatch ?? HEALTH_READY_MATCH;
    const namespace = metricNamespace(stack);
    const separateHealthRegion = region !== HEALTH_CHECK_METRICS_REGION;

    const account = getCallerIdentityOutput({}, { parent: this });
    const partition = getPartitionOutput({}, { parent: this });
    const keyFor = (suffix: string, keyRegion: string, logs: boolean) =>
      new kms.Key(
        `${name}-${suffix}`,
        {
          description: `runbook-platform ${stack.name}: alarm topics${logs ? " and application log groups" : ""} (${keyRegion})`,
          enableKeyRotation: true,
          deletionWindowInDays: 30,
          policy: pulumi
            .all([account.accountId, partition.partition])
            .apply(([accountId, p]) => alarmKeyPolicy({ accountId, partition: p, region: keyRegion, logs })),
          ...(keyRegion === region ? {} : { region: keyRegion }),
          tags,
        },
        stateful(stack, "key", this),
      );
    const key = keyFor("key", region, true);
    const healthKey = separateHealthRegion ? keyFor("key-us-east-1", HEALTH_CHECK_METRICS_REGION, false) : key;

    const topic = (role: string, displayName: string, kmsKey: kms.Key, topicRegion?: string) =>
      new sns.Topic(
        `${name}-${role}`,
        {
          name: physicalName(stack, role, "sns"),
          displayName,
          kmsMasterKeyId: kmsKey.arn,
          ...(topicRegion ? { region: topicRegion } : {}),
          tags,
        },
        { parent: this },
      );
    const pageTopic = topic("page", `${stack.namePrefix} ${stack.name}: page on-call`, key);
    const ticketTopic = topic("ticket", `${stack.namePrefix} ${stack.name}: high-priority ticket`, key);
    const healthPageTopic = separateHealthRegion ? topic("page-us-east-1", `${stack.namePrefix} ${stack.name}: page on-call`, healthKey, HEALTH_CHECK_METRICS_REGION) : pageTopic;

    const subscribe = (t: sns.Topic, role: string, emails: string[], https: pulumi.Input<string> | undefined, subRegion?: string) => {
      const where = subRegion ? { region: subRegion } : {};
      for (const email of emails) {
        new sns.TopicSubscription(`${name}-${role}-email-${slug(email)}`, { topic: t.arn, protocol: "email", endpoint: email, ...where }, { parent: this });
      }
      if (https !== undefined) {
        new sns.TopicSubscription(
          `${name}-${role}-https`,
          { topic: t.arn, protocol: "https", endpoint: pulumi.secret(https), endpointAutoConfirms: true, ...where },
          { parent: this },
        );
      }
    };
    subscribe(pageTopic, "page", args.pageEmails, args.pageHttpsEndpoint);
    subscribe(ticketTopic, "ticket", args.ticketEmails, undefined);
    if (separateHealthRegion) subscribe(healthPageTopic, "page-us-east-1", args.pageEmails, args.pageHttpsEndpoint, HEALTH_CHECK_METRICS_REGION);

    const logGroups: Record<LogSource, cloudwatch.LogGroup> = {
      api: new cloudwatch.LogGroup(
        `${name}-api-logs`,
        { name: logGroupName(stack, "api"), retentionInDays: args.logRetentionDays, kmsKeyId: key.arn, tags },
        { parent: this },
      ),
      worker: new cloudwatch.LogGroup(
        `${name}-worker-logs`,
        { name: logGroupName(stack, "worker"), retentionInDays: args.logRetentionDays, kmsKeyId: key.arn, tags },
        { parent: this },
      ),
    };
    for (const filter of METRIC_FILTERS) {
      new cloudwatch.LogMetricFilter(
        `${name}-${filter.key}`,
        {
          name: physicalName(stack, filter.key, "cloudwatch"),
          logGroupName: logGroups[filter.logGroup].name,
          pattern: filter.pattern,
          metricTransformation: {
            namespace,
            name: filter.metricName,
            value: filter.value,
            unit: filter.unit,
            ...("defaultValue" in filter ? { defaultValue: filter.defaultValue } : {}),
          },
        },
        { parent: this },
      );
    }

    // "health_ready != ready for 3m": Route 53 requires a 2xx/3xx answer whose body contains the ready text.
    const healthCheck = new route53.HealthCheck(
      `${name}-health-ready`,
      {
        type: "HTTPS_STR_MATCH",
        fqdn: args.apiHost,
        port: 443,
        enableSni: true,
        resourcePath: readyPath,
        searchString: readyMatch,
        requestInterval: HEALTH_CHECK_REQUEST_INTERVAL_SECONDS,
        failureThreshold: HEALTH_CHECK_FAILURE_THRESHOLD,
        measureLatency: true,
        tags: { ...tags, Name: physicalName(stack, "health-ready", "cloudwatch") },
      },
      { parent: this },
    );

    const definitions = alarmDefinitions({
      namespace,
      healthCheckId: healthCheck.id,
      dbInstanceIdentifier: args.dbInstanceIdentifier,
      maxConnections: args.maxConnections,
      allocatedStorageGb: args.allocatedStorageGb,
      cacheMemberClusterIds: args.cacheMemberClusterIds,
    });
    const topicFor = (route: AlarmRoute, alarmRegion: string | undefined): sns.Topic =>
      route === "ticket" ? ticketTopic : alarmRegion === HEALTH_CHECK_METRICS_REGION ? healthPageTopic : pageTopic;
    const alarmName = (d: AlarmDefinition) => physicalName(stack, `${d.route}-${d.key}`, "cloudwatch");
    const alarms = new Map<string, cloudwatch.MetricAlarm>();
    for (const d of definitions) {
      const actions = d.notify ? [topicFor(d.route, d.region).arn] : [];
      alarms.set(
        d.key,
        new cloudwatch.MetricAlarm(
          `${name}-${d.key}`,
          {
            name: alarmName(d),
            alarmDescription: d.description,
            comparisonOperator: d.comparison,
            evaluationPeriods: d.evaluationPeriods,
            datapointsToAlarm: d.datapointsToAlarm,
            treatMissingData: d.treatMissingData,
            ...(d.threshold === undefined ? {} : { threshold: d.threshold }),
            ...(d.thresholdMetricId === undefined ? {} : { thresholdMetricId: d.thresholdMetricId }),
            ...(d.metric ? singleMetric(d.metric) : {}),
            ...(d.queries ? { metricQueries: d.queries.map(toMetricQuery) } : {}),
            actionsEnabled: true,
            alarmActions: actions,
            okActions: actions,
            ...(d.region && d.region !== region ? { region: d.region } : {}),
            tags: { ...tags, route: d.route, runbookKey: d.row.key },
          },
          { parent: this },
        ),
      );
    }

    // "webhook_invalid_signature_rate spike": either the anomaly band or the static floor raises
    // one ticket (a burst at the floor tickets even when the band has learned a noisy baseline or
    // has not trained yet); the two members carry no actions so a burst never tickets twice.
    const composite = webhookComposite();
    const members = composite.members.map((k) => definitions.find((d) => d.key === k) as AlarmDefinition);
    const compositeName = physicalName(stack, `${composite.route}-${composite.key}`, "cloudwatch");
    const compositeTopic = topicFor(composite.route, undefined);
    const webhookAlarm = new cloudwatch.CompositeAlarm(
      `${name}-${composite.key}`,
      {
        alarmName: compositeName,
        alarmDescription: composite.description,
        alarmRule: members.map((m) => `ALARM("${alarmName(m)}")`).join(" OR "),
        actionsEnabled: true,
        alarmActions: [compositeTopic.arn],
        okActions: [compositeTopic.arn],
        tags: { ...tags, route: composite.route, runbookKey: composite.key },
      },
      { parent: this, dependsOn: members.map((m) => alarms.get(m.key) as cloudwatch.MetricAlarm) },
    );

    const homeAlarmArns = [
      ...definitions.filter((d) => !d.region || d.region === region).map((d) => (alarms.get(d.key) as cloudwatch.MetricAlarm).arn),
      webhookAlarm.arn,
    ];
    const healthAlarm = alarms.get("health-ready") as cloudwatch.MetricAlarm;
    const dashboard = new cloudwatch.Dashboard(
      `${name}-dashboard`,
      {
        dashboardName: physicalName(stack, "incident", "cloudwatch"),
        dashboardBody: pulumi
          .all([healthCheck.id, pulumi.output(args.dbInstanceIdentifier), pulumi.output(args.maxConnections), pulumi.all(args.cacheMemberClusterIds), pulumi.all(homeAlarmArns), healthAlarm.arn, logGroups.api.name, logGroups.worker.name])
          .apply(([healthCheckId, dbInstanceIdentifier, maxConnections, cacheMemberClusterIds, alarmArns, healthAlarmArn, api, worker]) =>
            dashboardBody({ region, namespace, healthCheckId, dbInstanceIdentifier, maxConnections, cacheMemberClusterIds, alarmArns, healthAlarmArn, logGroupNames: [api, worker] }),
          ),
      },
      { parent: this },
    );
    // Incident step 3, "Inspect structured logs using X-Request-Id".
    const query = new cloudwatch.QueryDefinition(
      `${name}-request-id-query`,
      {
        name: `${stack.namePrefix}-${stack.name}/every-line-of-one-x-request-id`,
        logGroupNames: [logGroups.api.name, logGroups.worker.name],
        queryString: REQUEST_ID_QUERY,
      },
      { parent: this },
    );

    this.pageTopicArn = pageTopic.arn;
    this.healthPageTopicArn = healthPageTopic.arn;
    this.ticketTopicArn = ticketTopic.arn;
    this.apiLogGroupName = logGroups.api.name;
    this.workerLogGroupName = logGroups.worker.name;
    this.apiLogGroupArn = logGroups.api.arn;
    this.workerLogGroupArn = logGroups.worker.arn;
    this.healthCheckId = healthCheck.id;
    this.dashboardName = dashboard.dashboardName;
    this.requestIdQueryName = query.name;
    this.kmsKeyArn = key.arn;
    const names: Record<string, string> = Object.fromEntries(definitions.map((d) => [d.key, alarmName(d)]));
    names[composite.key] = compositeName;
    this.alarmNames = pulumi.output(names);

    this.registerOutputs({
      pageTopicArn: this.pageTopicArn,
      healthPageTopicArn: this.healthPageTopicArn,
      ticketTopicArn: this.ticketTopicArn,
      apiLogGroupName: this.apiLogGroupName,
      workerLogGroupName: this.workerLogGroupName,
      apiLogGroupArn: this.apiLogGroupArn,
      workerLogGroupArn: this.workerLogGroupArn,
      healthCheckId: this.healthCheckId,
      dashboardName: this.dashboardName,
      requestIdQueryName: this.requestIdQueryName,
      alarmNames: this.alarmNames,
      kmsKeyArn: this.kmsKeyArn,
    });
  }
}
