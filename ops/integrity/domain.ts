import { Query, type ClientBase, type QueryConfig } from "pg";

/**
 * Domain checks: user SQL that returns the rows breaking a rule. The statement is sent exactly as
 * written (a trailing comment or semicolon included) through the extended query protocol, which
 * takes one statement only, inside the validation's READ ONLY transaction, which refuses writes.
 * Rows are counted as they stream in (none are kept but the first three samples), so a check that
 * returns millions of rows costs no memory.
 */

/** A user-supplied query that must return zero rows, e.g. "payments never exceed their order". */
export interface DomainCheck {
  name: string;
  sql: string;
}

const SAMPLES = 3;
// Every value as the text PostgreSQL sends: samples are shown, never computed with.
const AS_TEXT = { getTypeParser: () => (value: string) => value };

/** Runs one statement, counting its rows; throws with a fixable message when it is not one query. */
export function countRows(client: ClientBase, sql: string): Promise<{ count: number; samples: string[] }> {
  return new Promise((resolve, reject) => {
    let count = 0;
    const samples: string[] = [];
    const config = { text: sql, queryMode: "extended", rowMode: "array", types: AS_TEXT } as QueryConfig;
    const query = new Query(config);
    query.on("row", (row: (string | null)[]) => {
      if (++count <= SAMPLES) samples.push(`(${row.map((v) => v ?? "NULL").join(", ")})`);
    });
    query.on("error", (error: Error) => {
      reject(
        /cannot insert multiple commands into a prepared statement/.test(error.message)
          ? new Error("the SQL holds more than one statement; a domain check is one read-only statement that returns the violating rows")
          : error,
      );
    });
    query.on("end", (result: { fields?: unknown[]; command?: string | null }) => {
      if (!result.fields || result.fields.length === 0) {
        reject(new Error(`the SQL returns no rows (${result.command ?? "an empty statement"}); a domain check is one SELECT that returns the violating rows`));
        return;
      }
      resolve({ count, samples });
    });
    client.query(query);
  });
}
