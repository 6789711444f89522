import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DiffusionError } from '../../shared/errors';
import { sendError } from './errorReplies';
import { createHostCheck, createTokenCheck, targetAuthority } from './hostGuard';

/** Failed token attempts one connection may make per second before it is answered 429. */
export const TOKEN_FAILURES_PER_SECOND = 10;

export interface RequestGuardOptions {
  host: string;
  allowedHosts: readonly string[];
  token: string | null;
  /** True once shutdown began: new requests get 503 in the contract's shape. */
  closing: () => boolean;
  /** Milliseconds; injectable so the token throttle is tested without waiting. */
  now?: () => number;
}

/** The request's path, without the query. */
function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0] ?? '';
}

/** True when `path` is `prefix` itself or lies under it. */
function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

/**
 * The measured routes, whichever API they speak: ours (`/api/diffusion/*`), the OpenAI-compatible
 * front door (`/v1/*`) and llama.cpp's `/infill`. A browser page of another site may not call
 * them, and what they are posted must be JSON.
 */
function isMeasuredRoute(path: string): boolean {
  return under(path, '/api/diffusion') || under(path, '/v1') || under(path, '/infill');
}

/**
 * The static dashboard shell (the page and its assets) loads without the token so the page can
 * ask for it; everything under `/api/`, the scrape path and the front door's routes still need it.
 */
function isStaticShell(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const path = pathOf(request);
  return !under(path, '/api') && path !== '/metrics' && !isMeasuredRoute(path);
}

/** Counts failed token attempts per connection in one-second windows. */
class TokenThrottle {
  private readonly failures = new WeakMap<Socket, { windowStart: number; count: number }>();
  constructor(private readonly now: () => number) {}

  /** True when this connection used up its attempts for the current second. */
  blocked(socket: Socket): boolean {
    const entry = this.failures.get(socket);
    return entry !== undefined && this.now() - entry.windowStart < 1000 && entry.count >= TOKEN_FAILURES_PER_SECOND;
  }

  fail(socket: Socket): void {
    const now = this.now();
    const entry = this.failures.get(socket);
    if (entry === undefined || now - entry.windowStart >= 1000) this.failures.set(socket, { windowStart: now, count: 1 });
    else entry.count += 1;
  }
}

/** Requests to the measured routes that a browser page of another site may not make. */
function crossSiteMeasuredRequest(request: FastifyRequest): boolean {
  return isMeasuredRoute(pathOf(request)) && request.headers['sec-fetch-site'] === 'cross-site';
}

/** JSON (`application/json`, `application/*+json`), with any parameters. */
function isJsonType(contentType: string): boolean {
  const essence = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return essence === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(essence);
}

/** True when the request carries a body (a length above zero, or chunked). */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}

/**
 * The checks every request passes before any route runs, so nothing refused here is recorded:
 * shutdown, the Host (or the absolute-form target's authority) against DNS rebinding, the bearer
 * token with a per-connection throttle on failures, cross-site browser requests and non-JSON
 * bodies on the measured routes of every API (the form and text/plain posts a page may send
 * without CORS). Refusals on a front-door route come back in that API's error shape (`sendError`).
 */
export function createRequestGuard(options: RequestGuardOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> {
  const hostAllowed = createHostCheck(options);
  const tokenValid = createTokenCheck(options.token);
  const throttle = new TokenThrottle(options.now ?? Date.now);
  return async (request, reply) => {
    void reply.header('X-Request-Id', request.id);
    if (options.closing()) {
      void reply.header('Connection', 'close');
      return sendError(reply, new DiffusionError('model_unavailable', 'the server is shutting down; retry in a moment', { status: 503 }));
    }
    const authority = targetAuthority(request.raw.url);
    if (authority === null) return sendError(reply, new DiffusionError('validation', 'the request target is neither a path nor an http URL'));
    const host = authority ?? request.headers.host;
    if (host === undefined || host === '') return sendError(reply, new DiffusionError('validation', 'the request has no Host header'));
    if (!hostAllowed(host)) {
      return sendError(
        reply,
        new DiffusionError('validation', `Host ${JSON.stringify(host)} is not a local name; allow it with --allowed-hosts`, { status: 421 }),
      );
    }
    if (options.token !== null && !isStaticShell(request)) {
      const socket = request.raw.socket;
      if (throttle.blocked(socket)) {
        void reply.header('Retry-After', '1');
        return sendError(
          reply,
          new DiffusionError('rate_limited', `more than ${TOKEN_FAILURES_PER_SECOND} wrong tokens per second on this connection; wait a second`),
        );
      }
      if (!tokenValid(request.headers.authorization)) {
        throttle.fail(socket);
        void reply.header('WWW-Authenticate', 'Bearer');
        return sendError(reply, new DiffusionError('validation', 'missing or wrong bearer token', { status: 401 }));
      }
    }
    if (crossSiteMeasuredRequest(request)) {
      return sendError(reply, new DiffusionError('validation', 'cross-site requests to the generation routes are refused', { status: 403 }));
    }
    if (request.method === 'POST' && isMeasuredRoute(pathOf(request)) && hasBody(request)) {
      const type = request.headers['content-type'];
      if (type === undefined || !isJsonType(type)) {
        return sendError(
          reply,
          new DiffusionError('validation', `unsupported content type ${JSON.stringify(type ?? '')}; send application/json`, { status: 415 }),
        );
      }
    }
    return undefined;
  };
}
