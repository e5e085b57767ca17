import * as pulumi from "@pulumi/pulumi";
import * as ec2 from "@pulumi/aws/ec2";
import { physicalName, type StackIdentity } from "./naming";

/** PostgreSQL's and Redis's ports, the only ones the data tier opens. */
export const POSTGRES_PORT = 5432;
export const REDIS_PORT = 6379;

export interface NetworkArgs {
  /** Stack the network belongs to; part of every physical name. */
  stack: StackIdentity;
  /** The cluster's VPC, where the data tier lives. */
  vpcId: pulumi.Input<string>;
  /**
   * The cluster security group (EKS puts it on the control plane and every managed node, so pods
   * using the node's network interfaces carry it). The only source PostgreSQL and Redis admit.
   */
  clusterSecurityGroupId: pulumi.Input<string>;
  /**
   * Other security groups PostgreSQL admits: the restore drill's validation function, which checks
   * restored instances that carry this same group. @default none
   */
  databaseClientSecurityGroupIds?: pulumi.Input<string>[];
  /** Tags for every taggable child. */
  tags: Record<string, string>;
}

/**
 * The data tier's network boundary: one security group for PostgreSQL and one for Redis, each
 * admitting its port from the cluster's security group by reference (never a CIDR), with no egress.
 */
export class Network extends pulumi.ComponentResource {
  /** Admits 5432 from the cluster security group only. */
  public readonly databaseSecurityGroupId: pulumi.Output<string>;
  /** Admits 6379 from the cluster security group only. */
  public readonly cacheSecurityGroupId: pulumi.Output<string>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook-platform:network:Network", name, {}, opts);
    const { stack, tags } = args;
    const dataStoreSecurityGroup = (role: string, port: number, engine: string, clients: pulumi.Input<string>[] = []) =>
      new ec2.SecurityGroup(
        `${name}-${role}`,
        {
          vpcId: args.vpcId,
          description: `${engine} from the cluster only`,
          // No egress: the data stores only answer; a stateful security group lets replies out.
          egress: [],
          ingress: [
            { protocol: "tcp", fromPort: port, toPort: port, securityGroups: [args.clusterSecurityGroupId], description: `${engine} from the cluster's security group (API and worker)` },
            ...(clients.length > 0 ? [{ protocol: "tcp", fromPort: port, toPort: port, securityGroups: clients, description: `${engine} from the restore drill's validation function` }] : []),
          ],
          tags: { ...tags, Name: physicalName(stack, role, "ec2") },
        },
        { parent: this },
      );
    this.databaseSecurityGroupId = dataStoreSecurityGroup("database", POSTGRES_PORT, "PostgreSQL", args.databaseClientSecurityGroupIds).id;
    this.cacheSecurityGroupId = dataStoreSecurityGroup("cache", REDIS_PORT, "Redis").id;

    this.registerOutputs({
      databaseSecurityGroupId: this.databaseSecurityGroupId,
      cacheSecurityGroupId: this.cacheSecurityGroupId,
    });
  }
}
