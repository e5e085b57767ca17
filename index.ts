import { loadConfig } from "./config";
import { Network } from "./components/network";
import { defaultTags } from "./components/naming";

/**
 * The composition root: validates the stack's settings (nothing is registered if they are bad),
 * builds the components in dependency order and returns the stack outputs.
 */
export = async () => {
  const config = loadConfig();
  const tags = defaultTags(config.stack);

  const network = new Network("network", { stack: config.stack, ...config.network, tags });

  return {
    vpcId: network.vpcId,
    privateSubnetIds: network.privateSubnetIds,
  };
};
