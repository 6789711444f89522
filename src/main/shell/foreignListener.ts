import { connect } from 'node:net';
import type { StartupProblem } from '../../shared/api';
import { canListen } from './freePort';

/**
 * The addresses `localhost` may resolve to. Our server listens on one, but a browser or editor
 * told `http://localhost:7000` may try the other first — macOS resolves `localhost` to `::1`.
 */
export const LOOPBACK_ADDRESSES = ['127.0.0.1', '::1'] as const;

/** Whether something accepts TCP connections at `host:port`. */
export type ConnectProbe = (host: string, port: number) => Promise<boolean>;

/** Whether something accepts a TCP connection at `host:port` (refused, unreachable or silent: no). */
export function acceptsConnections(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * The loopback address where another program already answers on `port`, or `null`. Asked before
 * our server listens, so whatever answers is not us: on macOS 12+ port 7000 is the AirPlay
 * Receiver's (ControlCenter listens on `*:7000`), and our listen on 127.0.0.1 would still succeed
 * while `localhost:7000` reached AirPlay.
 */
export async function foreignListener(port: number, probe: ConnectProbe = acceptsConnections): Promise<string | null> {
  for (const address of LOOPBACK_ADDRESSES) {
    if (await probe(address, port)) return address;
  }
  return null;
}

/** The first port after `port` that we can listen on and nobody answers on, or `null`. */
export async function nextPortWithoutListener(
  host: string,
  port: number,
  probe: ConnectProbe = acceptsConnections,
  listen: (host: string, port: number) => Promise<boolean> = canListen,
  tries = 50,
): Promise<number | null> {
  for (let candidate = Math.max(1024, port + 1); candidate < Math.min(65536, port + 1 + tries); candidate += 1) {
    if ((await listen(host, candidate)) && (await foreignListener(candidate, probe)) === null) return candidate;
  }
  return null;
}

/**
 * A startup problem when another program answers on the configured port (on either loopback
 * address), with the next port free of listeners to offer; `null` when the port is ours to take.
 */
export async function detectForeignListener(host: string, port: number, probe: ConnectProbe = acceptsConnections): Promise<StartupProblem | null> {
  if (port === 0) return null;
  const address = await foreignListener(port, probe);
  if (address === null) return null;
  const shown = address.includes(':') ? `[${address}]` : address;
  return {
    type: 'port_in_use',
    message:
      `another program already answers on ${shown}:${port}, so http://localhost:${port} would not reach Diffusion Monitor` +
      (port === 7000 ? ' (on macOS 12+ this is the AirPlay Receiver: System Settings → General → AirDrop & Handoff → AirPlay Receiver)' : ''),
    port,
    suggestedPort: await nextPortWithoutListener(host, port, probe),
  };
}
