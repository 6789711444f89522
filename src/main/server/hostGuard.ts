import { timingSafeEqual } from 'node:crypto';
import { isLoopbackHost } from '../../shared/loopback';

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/** The hostname part of a Host header (`[::1]:7000` → `[::1]`, `localhost:7000` → `localhost`). */
export function hostnameOf(hostHeader: string): string {
  const value = hostHeader.trim().toLowerCase();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end === -1 ? value : value.slice(0, end + 1);
  }
  const colon = value.lastIndexOf(':');
  return colon === -1 ? value : value.slice(0, colon);
}

/**
 * DNS-rebinding defence: a browser tricked into calling us under a foreign name sends that name
 * in `Host`. Loopback names, the configured listen address and explicitly allowed names pass;
 * when listening on every interface with a token, the token is the defence and any name passes.
 */
export function createHostCheck(options: { host: string; allowedHosts: readonly string[]; token: string | null }): (hostHeader: string | undefined) => boolean {
  if (options.allowedHosts.includes('*') || (WILDCARD_HOSTS.has(options.host) && options.token !== null)) return () => true;
  const allowed = new Set(options.allowedHosts.map((h) => h.toLowerCase()));
  allowed.add(options.host.toLowerCase());
  if (options.host.includes(':') && !options.host.startsWith('[')) allowed.add(`[${options.host.toLowerCase()}]`);
  return (hostHeader) => {
    if (hostHeader === undefined || hostHeader === '') return false;
    const name = hostnameOf(hostHeader);
    return isLoopbackHost(name) || allowed.has(name);
  };
}

/** Constant-time bearer token check. */
export function createTokenCheck(token: string | null): (authorization: string | undefined) => boolean {
  if (token === null) return () => true;
  const expected = Buffer.from(`Bearer ${token}`);
  return (authorization) => {
    if (!authorization) return false;
    const given = Buffer.from(authorization);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
}
