import { InvalidArgumentError } from "commander";
import type { ClientConfig } from "pg";
import { connectClient } from "../lib/postgres";

/**
 * A realistic sample of the application's schema for local drills, tests and benchmarks: users,
 * orders, payments and webhook events, with foreign keys, CHECK constraints, unique keys, sequences
 * and a Prisma migrations table. Seeded set-based (generate_series), about 7 rows per user.
 */

export const SAMPLE_TABLES = ["_prisma_migrations", "users", "orders", "payments", "webhook_events"] as const;

const SAMPLE_SCHEMA = `
CREATE TABLE _prisma_migrations (
  id varchar(36) PRIMARY KEY,
  checksum varchar(64) NOT NULL,
  finished_at timestamptz,
  migration_name varchar(255) NOT NULL,
  logs text,
  rolled_back_at timestamptz,
  started_at timestamptz NOT NULL DEFAULT now(),
  applied_steps_count integer NOT NULL DEFAULT 0
);
CREATE TABLE users (
  id bigserial PRIMARY KEY,
  email text NOT NULL UNIQUE,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id),
  status text NOT NULL CHECK (status IN ('pending', 'paid', 'shipped', 'cancelled')),
  total_cents integer NOT NULL CHECK (total_cents >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_user_id_idx ON orders (user_id);
CREATE TABLE payments (
  id bigserial PRIMARY KEY,
  order_id bigint NOT NULL REFERENCES orders (id),
  amount_cents integer NOT NULL CHECK (amount_cents > 0),
  provider text NOT NULL,
  provider_ref text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, provider_ref)
);
CREATE INDEX payments_order_id_idx ON payments (order_id);
CREATE TABLE webhook_events (
  id bigserial PRIMARY KEY,
  provider text NOT NULL,
  event_id text NOT NULL,
  payment_id bigint REFERENCES payments (id),
  payload jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, event_id)
);
`;

const MIGRATIONS = ["20240101000000_init", "20240301000000_payments", "20240601000000_webhook_events"];

/** The most sample users a command seeds: about 7 million rows, minutes of seeding, a few GB of disk. */
const MAX_SAMPLE_USERS = 1_000_000;

/**
 * The commander parser of a flag giving a number of sample users (`drill:local --users`,
 * `db:local --seed`).
 * @throws InvalidArgumentError (exit 2) for anything but a whole number from 1 to MAX_SAMPLE_USERS
 */
export function sampleUsersOption(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > MAX_SAMPLE_USERS) {
      throw new InvalidArgumentError(`${flag} takes a number of sample users from 1 to ${MAX_SAMPLE_USERS} (about 7 rows each), got "${value}"`);
    }
    return n;
  };
}

/** Creates the sample schema in an empty database and seeds it; returns the total row count. */
export async function seedSampleDatabase(connection: string | ClientConfig, users: number): Promise<number> {
  if (!Number.isInteger(users) || users < 1) throw new Error(`users is ${users}; seed at least one user`);
  // A server that goes away mid-seed (Ctrl-C stops it) fails the running query, not the process.
  const client = await connectClient(typeof connection === "string" ? { connectionString: connection } : connection);
  try {
    await client.query("BEGIN");
    await client.query(SAMPLE_SCHEMA);
    await client.query(
      `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
       SELECT md5(m), md5(m || 'checksum'), now(), m, now(), 1 FROM unnest($1::text[]) m`,
      [MIGRATIONS],
    );
    await client.query(
      `INSERT INTO users (email, name, created_at)
       SELECT 'user' || g || '@example.com', 'User ' || g, now() - g * interval '1 minute' FROM generate_series(1, $1) g`,
      [users],
    );
    await client.query(
      `INSERT INTO orders (user_id, status, total_cents, created_at)
       SELECT 1 + g % $1, (ARRAY['pending', 'paid', 'shipped', 'cancelled'])[1 + g % 4], 100 + (g * 37) % 50000, now() - g * interval '1 second'
         FROM generate_series(1, $1 * 3) g`,
      [users],
    );
    await client.query(
      `INSERT INTO payments (order_id, amount_cents, provider, provider_ref, created_at)
       SELECT id, total_cents, 'stripe', 'pi_' || id, created_at FROM orders WHERE status IN ('paid', 'shipped') ORDER BY id`,
    );
    await client.query(
      `INSERT INTO webhook_events (provider, event_id, payment_id, payload, received_at)
       SELECT 'stripe', 'evt_' || id, id, jsonb_build_object('type', 'payment_intent.succeeded', 'amount', amount_cents), created_at
         FROM payments ORDER BY id`,
    );
    await client.query("COMMIT");
    await client.query("VACUUM ANALYZE");
    const { rows } = await client.query<{ n: string }>(
      `SELECT ((SELECT count(*) FROM users) + (SELECT count(*) FROM orders) + (SELECT count(*) FROM payments)
             + (SELECT count(*) FROM webhook_events) + (SELECT count(*) FROM _prisma_migrations))::text AS n`,
    );
    return Number(rows[0]?.n ?? 0);
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

/** Domain rules of the sample application; each query returns the rows that break the rule. */
export const SAMPLE_DOMAIN_CHECKS = [
  {
    name: "payments never exceed their order's total",
    sql: "SELECT p.id FROM payments p JOIN orders o ON o.id = p.order_id WHERE p.amount_cents > o.total_cents",
  },
  {
    name: "only paid or shipped orders have payments",
    sql: "SELECT p.id FROM payments p JOIN orders o ON o.id = p.order_id WHERE o.status NOT IN ('paid', 'shipped')",
  },
];
