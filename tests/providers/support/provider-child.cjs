"use strict";
/**
 * Runs one method of a serialized dynamic provider in a plain Node process, as the engine's
 * provider host does, and refuses every devDependency the way an install with `--omit=dev` would
 * lack them. Usage: node provider-child.cjs <provider.js> <create|delete|read> (inputs JSON on stdin).
 * Prints `started` when the method begins and the method's result as JSON when it ends.
 */
const fs = require("node:fs");
const path = require("node:path");
const Module = require("node:module");

const root = path.resolve(__dirname, "../../..");
const devDependencies = Object.keys(JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).devDependencies);
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const name = request.startsWith("@") ? request.split("/").slice(0, 2).join("/") : request.split("/")[0];
  if (devDependencies.includes(name)) throw new Error(`devDependency "${request}" required at deploy time`);
  return resolve.call(this, request, ...rest);
};

const [providerFile, method] = process.argv.slice(2);
const text = fs.readFileSync(providerFile, "utf8");
const filename = path.join(root, "__provider.js");
const m = new Module(filename);
m.filename = filename;
m.paths = Module._nodeModulePaths(root);
m._compile(text, filename);
const provider = m.exports.handler();
const inputs = JSON.parse(fs.readFileSync(0, "utf8"));
process.stdout.write("started\n");
const call = method === "create" ? provider.create(inputs) : method === "read" ? provider.read(inputs.id, inputs.props) : provider.delete(inputs.id, inputs.props);
call.then(
  (result) => process.stdout.write(`${JSON.stringify(result ?? null)}\n`),
  (error) => {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  },
);
