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
 * Loads an ops module (TypeScript) from inside a provider method. The provider host has no
 * TypeScript loader, and deploy-time code must not need devDependencies (an install with
 * `--omit=dev` still has to create and delete): esbuild, a production dependency, bundles the ops
 * module's own files in memory, and its packages (pg, the AWS SDK) load from the project's
 * node_modules as usual.
 */
export function loadOps<T>(location: { root: string }, relative: string): T {
  const fs: typeof import("node:fs") = require("node:fs");
  const nodePath: typeof import("node:path") = require("node:path");
  interface CompilableModule {
    filename: string;
    paths: string[];
    exports: unknown;
    _compile(code: string, filename: string): void;
  }
  const NodeModule = require("node:module") as { new (id: string): CompilableModule; _nodeModulePaths(dir: string): string[] };
  const roots = [location.root, process.cwd()];
  const root = roots.find((r) => fs.existsSync(nodePath.join(r, `${relative}.ts`)));
  if (!root) {
    throw new Error(`cannot find ${relative}.ts under ${roots.join(" or ")}; run pulumi from the runbook-platform project directory`);
  }
  const entry = nodePath.join(root, `${relative}.ts`);
  const esbuild: typeof import("esbuild") = require(require.resolve("esbuild", { paths: [root] }));
  const built = esbuild.buildSync({ entryPoints: [entry], bundle: true, packages: "external", platform: "node", format: "cjs", target: "node20", write: false, logLevel: "silent" });
  const filename = nodePath.join(nodePath.dirname(entry), `${nodePath.basename(entry, ".ts")}.provider.js`);
  const loaded = new NodeModule(filename);
  loaded.filename = filename;
  loaded.paths = NodeModule._nodeModulePaths(nodePath.dirname(entry));
  loaded._compile(built.outputFiles[0]?.text ?? "", filename);
  return loaded.exports as T;
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
