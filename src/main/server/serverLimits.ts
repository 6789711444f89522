import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { PassThrough, pipeline } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions, RequestPayload } from 'fastify';
import { DiffusionError } from '../../shared/errors';
import { sendError } from './errorReplies';

/** How long and how many: the bounds a client cannot push the server past. */
export interface ServerLimits {
  /** Receiving a whole request (headers and body) may take this long (default 30 s). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (default 5 s, Node's own default). */
  keepAliveTimeoutMs: number;
  /** Open connections at most; one more is answered 429 and closed (default 1000). */
  maxConnections: number;
  /** Shutdown waits this long for diffusion requests in progress, then cuts them (default 10 s). */
  shutdownGraceMs: number;
  /** Diffusion requests served at once; as many more wait, shared fairly (default 128). */
  maxConcurrent: number;
  /** Distinct model labels in metrics; the rest count as `other` (default 100). */
  maxModels: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1000,
  shutdownGraceMs: 10_000,
  maxConcurrent: 128,
  maxModels: 100,
};

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large' };

/** A whole HTTP/1.1 answer for a raw socket, in the taxonomy's shape with a fresh request id. */
function rawAnswer(error: DiffusionError): string {
  const id = randomUUID();
  const body = JSON.stringify(error.toBody(id));
  return [
    `HTTP/1.1 ${error.status} ${STATUS_TEXT[error.status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `X-Request-Id: ${id}`,
    ...(error.status === 429 ? ['Retry-After: 1'] : []),
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Node's parser refused the request before Fastify saw it (headers too large, bytes that are not
 * HTTP, the request timeout): answer in the contract's shape anyway, unless the client is gone.
 */
function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  let answer: DiffusionError;
  if (error.code === 'HPE_HEADER_OVERFLOW') answer = new DiffusionError('validation', 'request headers are too large', { status: 431 });
  else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    answer = new DiffusionError('validation', 'the request did not arrive in time (request timeout)', { status: 408 });
  else answer = new DiffusionError('validation', `the request is not valid HTTP (${error.code ?? error.message})`);
  if (socket.writable) socket.end(rawAnswer(answer));
  else socket.destroy();
}

/** Errors Fastify raises before routing (a URL that does not decode, `/%ff`). */
function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  void reply.header('X-Request-Id', request.id);
  const message = error.code === 'FST_ERR_BAD_URL' ? `the URL ${JSON.stringify(request.raw.url ?? '')} is not valid` : error.message;
  void sendError(reply, new DiffusionError('validation', message));
}

/** Fastify options carrying the limits, the raw-socket error answers and the pre-routing ones. */
export function limitOptions(
  limits: ServerLimits,
): Pick<
  FastifyServerOptions,
  'requestTimeout' | 'keepAliveTimeout' | 'connectionTimeout' | 'forceCloseConnections' | 'return503OnClosing' | 'clientErrorHandler' | 'frameworkErrors'
> & { http: { requireHostHeader: boolean; connectionsCheckingInterval: number } } {
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // No idle timeout on a socket with a request in progress: a JSON request may wait minutes for a model.
    connectionTimeout: 0,
    // Shutdown is ours (`drainAndClose`); Fastify's 503 has its own body and no request id.
    forceCloseConnections: false,
    return503OnClosing: false,
    clientErrorHandler,
    frameworkErrors,
    http: {
      // A missing Host is answered by our own guard in the contract's shape.
      requireHostHeader: false,
      // Node checks the request timeout on this interval; its 30 s default would double the bound.
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(limits.requestTimeoutMs / 4))),
    },
  };
}

/**
 * Bounds a request body's arrival. Node's `requestTimeout` stops counting once the headers are
 * in, so a body trickled or stalled would stay open for good: the body stream fails with a 408
 * after `timeoutMs`, which the routes answer and record like any bad body, and the connection
 * closes after the answer. A `preParsing` hook, so the body parser sees it as the stream's error.
 */
export function bodyDeadline(timeoutMs: number): (request: FastifyRequest, reply: FastifyReply, payload: RequestPayload) => Promise<RequestPayload> {
  return async (_request, reply, payload) => {
    const bounded = new PassThrough();
    const timer = setTimeout(() => {
      void reply.header('Connection', 'close');
      bounded.destroy(new DiffusionError('validation', `the request body did not arrive within ${timeoutMs / 1000} s (request timeout)`, { status: 408 }));
    }, timeoutMs);
    timer.unref();
    pipeline(payload, bounded, () => clearTimeout(timer));
    bounded.once('end', () => clearTimeout(timer));
    return bounded;
  };
}

/**
 * Caps open connections: one past `max` is answered 429 in the contract's shape and closed, so a
 * flood of stalled clients cannot take every descriptor and normal requests see a clear error.
 */
export function limitConnections(server: Server, max: number): void {
  let open = 0;
  server.prependListener('connection', (socket: Socket) => {
    if (open >= max) {
      // Keep reading what the client sends, so closing after our answer is not a reset.
      socket.on('error', () => socket.destroy());
      socket.end(rawAnswer(new DiffusionError('rate_limited', `too many open connections (limit ${max}); retry when one closes`)));
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    open += 1;
    socket.once('close', () => (open -= 1));
  });
}

const POLL_MS = 25;
/** After the cut, how long we wait for the routes to record what they lost. */
const RECORD_WAIT_MS = 2000;

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, POLL_MS));

/**
 * Shutdown: stop accepting, close idle connections at once, let the diffusion requests in
 * progress (`busy()`) finish within the grace period, then cut the rest — their routes see the
 * client leave and record them `cancelled` — and wait briefly for those records.
 */
export async function drainAndClose(app: FastifyInstance, options: { graceMs: number; busy: () => number }): Promise<void> {
  const closed = app.close();
  const server = app.server;
  const deadline = Date.now() + options.graceMs;
  while (options.busy() > 0 && Date.now() < deadline) {
    server.closeIdleConnections();
    await tick();
  }
  if (options.busy() > 0) {
    server.closeAllConnections();
    const recordDeadline = Date.now() + RECORD_WAIT_MS;
    while (options.busy() > 0 && Date.now() < recordDeadline) await tick();
  }
  // Answers just ended are still leaving their sockets: those close as they become idle.
  for (let i = 0; i < 4; i++) {
    server.closeIdleConnections();
    await tick();
  }
  // Long-lived answers that are not diffusion work (the dashboard's live stream) end now.
  server.closeAllConnections();
  await closed;
}
