import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { DiffusionError, asDiffusionError, type ErrorBody } from '../../shared/errors';
import { issueSentences } from '../../shared/validation';

export const BODY_LIMIT = 1024 * 1024;

/**
 * Sends an error in the one body shape of the taxonomy, or in the shape of the route's API when
 * its config names one (`errorBody`: the OpenAI-compatible and llama.cpp routes), so that errors
 * raised before a route's handler (Host, token) reach each client in a shape it can read; with
 * `Retry-After` when the error says when to retry.
 */
export function sendError(reply: FastifyReply, error: DiffusionError): FastifyReply {
  if (error.retryAfterSeconds !== undefined) void reply.header('Retry-After', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  const requestId = String(reply.request.id);
  const shape = (reply.request.routeOptions.config as { errorBody?: (error: DiffusionError, requestId: string) => unknown } | undefined)?.errorBody;
  const body: unknown = shape ? shape(error, requestId) : (error.toBody(requestId) satisfies ErrorBody);
  return reply.code(error.status).type('application/json; charset=utf-8').send(body);
}

/**
 * A 400 for input that failed its schema: the first issue's sentence as the message, every issue
 * in `details`. `where` names the input when an issue has no path (the whole body or query);
 * `schema` (the one that failed) lets a message state a number's whole range.
 */
export function validationError(error: z.ZodError, where = 'body', schema?: z.ZodType): DiffusionError {
  const details = issueSentences(error, { where, ...(schema ? { schema } : {}) });
  return new DiffusionError('validation', details[0]?.message ?? `${where} is not valid`, { details });
}

/** Maps anything thrown (Fastify's own errors included) onto the taxonomy. */
export function toDiffusionError(error: unknown): DiffusionError {
  if (error instanceof DiffusionError) return error;
  const e = error as { code?: string; statusCode?: number; message?: string } | null;
  switch (e?.code) {
    case 'ECONNRESET':
    case 'ECONNABORTED':
    case 'ERR_STREAM_PREMATURE_CLOSE':
      // The client went away while sending its body.
      return new DiffusionError('cancelled', 'the client left before its request body arrived', { cause: error });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new DiffusionError('validation', `request body is larger than ${BODY_LIMIT} bytes`, { status: 413 });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new DiffusionError('validation', 'unsupported content type; send application/json', { status: 415 });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new DiffusionError('validation', `request body is not valid JSON: ${e.message ?? ''}`);
    default:
      if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
        return new DiffusionError('validation', e.message ?? 'bad request', { status: e.statusCode });
      }
      return asDiffusionError(error);
  }
}

/**
 * Takes the response over from Fastify and opens a Server-Sent Events stream: no caching, no
 * proxy buffering, the request id, plus any `extra` headers. Headers go out at once so the
 * client sees the stream open before the first event.
 */
export function openEventStream(reply: FastifyReply, extra: Record<string, string> = {}): FastifyReply['raw'] {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
    'X-Request-Id': String(reply.request.id),
    ...extra,
  });
  raw.flushHeaders();
  return raw;
}
