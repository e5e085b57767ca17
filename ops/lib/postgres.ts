import { Client, type ClientConfig } from "pg";

/**
 * A connected pg Client. A server that drops the connection later (a shutdown, a failover, a
 * database dropped under it) makes the client emit "error", which would crash the process with no
 * listener: the failure surfaces through the next query instead. A failed connect ends the client.
 * @throws the connect error (ECONNREFUSED, password authentication failed, ...)
 */
export async function connectClient(config: ClientConfig): Promise<Client> {
  const client = new Client(config);
  client.on("error", () => undefined);
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}
