import { createServer } from 'node:net';

/** Whether `port` can be listened on at `host` right now. */
export function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The first free port from `start` on (at most `tries` probes), or `null`. */
export async function findFreePort(host: string, start: number, tries = 50): Promise<number | null> {
  for (let port = Math.max(1024, start); port < Math.min(65536, start + tries); port += 1) {
    if (await canListen(host, port)) return port;
  }
  return null;
}
