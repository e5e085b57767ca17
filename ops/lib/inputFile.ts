import { readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { CliError } from "./cli";

/** An input file a flag names (checks, counts) is a few kilobytes; past this it is not one (a data file). */
const MAX_INPUT_BYTES = 1024 * 1024;

/**
 * The UTF-8 text of a small file a flag names (`--domain-checks`, `--reference-counts`), without a
 * leading byte-order mark (editors on Windows write one; it is not part of the YAML or JSON).
 * @param example what the file holds, quoted in the fix
 * @throws CliError (exit 2) naming the flag, the file (as given and as resolved) and the fix: missing,
 * a directory, a device or pipe (which would be read forever), over 1 MiB, or not readable
 */
export function readInputFile(flag: string, file: string, example: string): string {
  const resolved = path.resolve(file);
  try {
    const info = statSync(file);
    if (info.isDirectory()) throw new CliError(`${flag} ${file}: is a directory (${resolved}); give the file itself, for example one holding: ${example}`);
    if (!info.isFile()) throw new CliError(`${flag} ${file}: not a regular file (a device or a pipe); give the file itself, for example one holding: ${example}`);
    if (info.size > MAX_INPUT_BYTES) throw new CliError(`${flag} ${file}: ${info.size} bytes, more than 1 MiB: not the file this flag takes, which holds for example: ${example}`);
    return readFileSync(file, "utf8").replace(/^\uFEFF/, "");
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as { code?: unknown }).code;
    if (code === "ENOENT") throw new CliError(`${flag} ${file}: no such file (${resolved}); fix the path, or write the file, for example: ${example}`);
    if (code === "EACCES") throw new CliError(`${flag} ${file}: not readable by this user (${resolved}); fix its permissions or copy it somewhere readable`);
    throw new CliError(`${flag} ${file}: cannot be read (${resolved}): ${error instanceof Error ? error.message : String(error)}`);
  }
}
