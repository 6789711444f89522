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

/**
 * The `authority` of an absolute-form request target (`GET http://host/path HTTP/1.1`), which
 * RFC 9112 §3.2.2 says replaces `Host`; `undefined` for the usual origin form (`/path`).
 * `null` when the target is neither.
 */
export function targetAuthority(rawUrl: string | undefined): string | undefined | null {
  if (rawUrl === undefined || rawUrl.startsWith('/') || rawUrl === '*') return undefined;
  try {
    const url = new URL(rawUrl);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.host : null;
  } catch {
    return null;
  }
}

/** The credentials of `Authorization: Bearer …`; the scheme is case-insensitive (RFC 9110 §11.1). */
export function bearerCredentials(authorization: string | undefined): string | null {
  if (authorization === undefined) return null;
  const match = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]+(\S+)\s*$/.exec(authorization);
  if (match === null || match[1]?.toLowerCase() !== 'bearer') return null;
  return match[2] ?? null;
}

/** Constant-time comparison of the given bearer token with the expected one. */
export function createTokenCheck(token: string | null): (authorization: string | undefined) => boolean {
  if (token === null) return () => true;
  const expected = Buffer.from(token);
  return (authorization) => {
    const given = bearerCredentials(authorization);
    if (given === null) return false;
    const bytes = Buffer.from(given);
    return bytes.length === expected.length && timingSafeEqual(bytes, expected);
  };
}
