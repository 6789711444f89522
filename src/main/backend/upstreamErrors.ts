import { DiffusionError, ERROR_TYPES, type ErrorType } from '../../shared/errors';

/** How much of an upstream error body goes into our message: enough to diagnose, never a page. */
const EXCERPT_CHARS = 200;

/** Socket-level codes that mean "the backend cannot be reached or dropped us". */
const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  ECONNRESET: 'connection reset',
  ECONNABORTED: 'connection aborted',
  EPIPE: 'connection closed while sending',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
  UND_ERR_SOCKET: 'connection closed by the backend',
  UND_ERR_CLOSED: 'connection closed',
  UND_ERR_DESTROYED: 'connection destroyed',
  UND_ERR_CONNECT_TIMEOUT: 'could not connect in time',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'response cut short',
};

/** Codes that mean the backend answered, but with something no HTTP client should take. */
const MALFORMED_CODES: Record<string, string> = {
  UND_ERR_HEADERS_OVERFLOW: 'response headers too large',
  HPE_HEADER_OVERFLOW: 'response headers too large',
};

/**
 * Types an upstream may hand us that we keep as they are. `internal` and `cancelled` describe the
 * upstream's own state (its bug, its cancellation), which from our side is a failing backend;
 * keeping them would blame our code or record a cancel our client never made.
 */
const PASSED_THROUGH: ReadonlySet<ErrorType> = new Set(ERROR_TYPES.filter((t) => t !== 'internal' && t !== 'cancelled'));

/** Maps an error type reported by the upstream (body or `error` frame) onto ours. */
export function upstreamErrorType(reported: unknown): ErrorType {
  return typeof reported === 'string' && PASSED_THROUGH.has(reported as ErrorType) ? (reported as ErrorType) : 'backend';
}

/** A one-line excerpt of an upstream body for messages and details. */
export function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}

function errorCode(error: unknown, depth = 0): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 4) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (code in NETWORK_CODES || code in MALFORMED_CODES)) return code;
  // Happy-eyeballs connects fail with an AggregateError of one error per address.
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const found = errorCode(inner, depth + 1);
      if (found) return found;
    }
  }
  const fromCause = errorCode((error as { cause?: unknown }).cause, depth + 1);
  return fromCause ?? (typeof code === 'string' ? code : undefined);
}

/**
 * Turns whatever the HTTP layer threw into a taxonomy error. Socket and DNS failures are
 * `network`; anything unrecognised is `backend`, so a raw undici error never escapes.
 */
export function toUpstreamError(error: unknown, url: string): DiffusionError {
  if (error instanceof DiffusionError) return error;
  const code = errorCode(error);
  if (code !== undefined && code in NETWORK_CODES) {
    return new DiffusionError('network', `cannot reach backend at ${url}: ${NETWORK_CODES[code]} (${code})`, { cause: error, details: { code } });
  }
  if (code !== undefined && code in MALFORMED_CODES) {
    return new DiffusionError('backend', `backend at ${url} sent ${MALFORMED_CODES[code]} (${code})`, { cause: error, details: { code } });
  }
  const message = error instanceof Error ? error.message : describeThrown(error);
  return new DiffusionError('backend', `backend at ${url} failed: ${excerpt(message)}${code ? ` (${code})` : ''}`, { cause: error });
}

/** Words anything thrown; a value whose own `toString` throws or lies still gets a description. */
function describeThrown(value: unknown): string {
  try {
    const text = String(value);
    return text === '' ? '(empty error)' : text;
  } catch {
    return `(unprintable ${typeof value})`;
  }
}

/** What an upstream error body says about itself, in any of the shapes servers use. */
export interface UpstreamErrorBody {
  type?: string;
  code?: string;
  message?: string;
}

/** Reads `{error: {type, code, message}}`, `{error: "..."}`, `{detail: ...}` or `{message}`. */
export function parseErrorBody(text: string): UpstreamErrorBody {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof json !== 'object' || json === null) return {};
  const record = json as Record<string, unknown>;
  const error = record.error;
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
  if (typeof error === 'object' && error !== null) {
    const e = error as Record<string, unknown>;
    return { type: str(e.type), code: str(e.code), message: str(e.message) };
  }
  return { message: str(error) ?? str(record.detail) ?? str(record.message) };
}

/** Picks the type of an HTTP error whose body names no taxonomy type (protocols differ here). */
export type ErrorClassifier = (status: number, body: UpstreamErrorBody) => ErrorType;

/**
 * An HTTP error answer from the backend. A known taxonomy type in the body is kept; otherwise
 * `classify` decides (by default: `backend`). The upstream status and a body excerpt
 * go into the message and the details.
 */
export function httpStatusError(status: number, bodyText: string, url: string, classify: ErrorClassifier = () => 'backend'): DiffusionError {
  const body = parseErrorBody(bodyText);
  const known = body.type !== undefined && upstreamErrorType(body.type) === body.type;
  const type = known ? (body.type as ErrorType) : classify(status, body);
  const shown = excerpt(body.message ?? bodyText) || '(empty body)';
  return new DiffusionError(type, `backend at ${url} answered HTTP ${status}: ${shown}`, {
    details: { upstream_status: status, body_excerpt: excerpt(bodyText) },
  });
}

/** The backend said something we cannot parse: a bad frame, bad JSON, a stream without an end. */
export function malformedError(what: string, url: string, sample?: string): DiffusionError {
  return new DiffusionError('backend', `backend at ${url} sent ${what}${sample === undefined ? '' : `: ${excerpt(sample)}`}`, {
    ...(sample === undefined ? {} : { details: { sample: excerpt(sample) } }),
  });
}
