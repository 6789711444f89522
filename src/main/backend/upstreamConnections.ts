import { Client } from 'undici';

/**
 * Idle connections kept for reuse. Above the concurrency editors and scripts use (the bridge
 * benchmark runs 64), so steady load never pays a connect per request; undici closes sockets
 * idle past their keep-alive timeout on its own.
 */
const MAX_IDLE_CONNECTIONS = 256;
/** Upper bound on waiting for in-flight requests when closing. */
const CLOSE_GRACE_MS = 2000;

/** One connection lent to one request; hand it back exactly once. */
export interface ConnectionLease {
  readonly client: Client;
  /** The request finished cleanly: the connection may serve the next one. */
  keep(): void;
  /** The request was aborted or failed: close the socket now. */
  discard(): void;
}

/**
 * Keep-alive connections to one origin, each lent to one request at a time.
 *
 * We do not use undici's `Pool` because it cannot close the connection of one aborted request:
 * aborting through its signal destroys the socket but then re-queues the dead request and opens a
 * replacement socket that nothing uses (nodejs/undici#5845), so the backend still sees us connected.
 * Owning the `Client` lets a cancel or timeout destroy exactly that connection.
 */
export class UpstreamConnections {
  private readonly origin: string;
  private readonly options: Client.Options;
  private readonly idle: Client[] = [];
  private readonly busy = new Set<Client>();
  private closed = false;

  constructor(origin: string, options: Client.Options) {
    this.origin = origin;
    this.options = options;
  }

  /** Lends the most recently used idle connection (its socket is the likeliest to be alive). */
  lease(): ConnectionLease {
    const client = this.idle.pop() ?? new Client(this.origin, this.options);
    this.busy.add(client);
    let settled = false;
    const settle = (reusable: boolean): void => {
      if (settled) return;
      settled = true;
      this.busy.delete(client);
      if (reusable && !this.closed && !client.closed && !client.destroyed && this.idle.length < MAX_IDLE_CONNECTIONS) this.idle.push(client);
      else void client.destroy().catch(() => undefined);
    };
    return { client, keep: () => settle(true), discard: () => settle(false) };
  }

  /** Lets in-flight requests finish briefly, then drops every connection. */
  async close(): Promise<void> {
    this.closed = true;
    const clients = [...this.idle.splice(0), ...this.busy];
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), CLOSE_GRACE_MS);
    });
    const graceful = Promise.all(clients.map((client) => client.close())).then(() => true);
    const closedInTime = await Promise.race([graceful, late]).catch(() => false);
    clearTimeout(timer);
    if (!closedInTime) await Promise.all(clients.map((client) => client.destroy().catch(() => undefined)));
  }
}
