import * as path from "node:path";

/**
 * What a serialized provider needs to find the ops code at deploy time, as plain data.
 *
 * Pulumi serializes a dynamic provider's methods as text and the engine loads that text with
 * require-from-string in a separate process, so a relative `require("../ops/restore")` would resolve
 * against that process's working directory, not this file. The absolute paths below are computed
 * here, when the program runs, and captured by value. The state keeps the provider text for later
 * diffs and deletes, possibly on another machine (a CI runner with a different checkout path), so
 * the loader falls back to the engine's working directory, which is the Pulumi project.
 */
export const OPS_LOCATION = {
  root: path.resolve(__dirname, ".."),
};

/**
 * Loads an ops module (TypeScript) from inside a provider method. The provider process has no
 * TypeScript loader of its own, so ts-node (transpile-only, the project's tsconfig) is registered
 * from the project's node_modules when `.ts` is not loadable yet.
 */
export function loadOps<T>(location: { root: string }, relative: string): T {
  const fs: typeof import("node:fs") = require("node:fs");
  const nodePath: typeof import("node:path") = require("node:path");
  const roots = [location.root, process.cwd()];
  const root = roots.find((r) => fs.existsSync(nodePath.join(r, `${relative}.ts`)));
  if (!root) {
    throw new Error(`cannot find ${relative}.ts under ${roots.join(" or ")}; run pulumi from the runbook-platform project directory`);
  }
  const extensions = (require as NodeJS.Require & { extensions: Record<string, unknown> }).extensions;
  if (!extensions[".ts"]) {
    const tsNode: { register(options: { transpileOnly: boolean; project: string }): unknown } = require(require.resolve("ts-node", { paths: [root] }));
    tsNode.register({ transpileOnly: true, project: nodePath.join(root, "tsconfig.json") });
  }
  return require(nodePath.join(root, relative)) as T;
}

/**
 * The diff of a drill or a check: any change to one of `keys` replaces it (each run is an event: new
 * inputs, new run), and `replaces` is always explicit. Outputs and the serialized provider itself
 * are ignored.
 */
export function replacingDiff<T extends object>(olds: T, news: T, keys: readonly (keyof T & string)[]): { changes: boolean; replaces: string[] } {
  const replaces = keys.filter((k) => JSON.stringify(olds[k] ?? null) !== JSON.stringify(news[k] ?? null));
  return { changes: replaces.length > 0, replaces };
}
