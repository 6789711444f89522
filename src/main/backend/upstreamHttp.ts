import type { Dispatcher } from 'undici';
import { DiffusionError } from '../../shared/errors';
import { clientReady } from './clientFlow';
import { UpstreamConnections, type ConnectionLease } from './upstreamConnections';
import { httpStatusError, malformedError, toUpstreamError, type ErrorClassifier } from './upstreamErrors';

/** Default backend timeout in seconds (PRODUCT.md, "Backends"). */
export const DEFAULT_TIMEOUT_SECONDS = 120;
/** Largest success body we buffer (non-stream answers, model lists), and the largest SSE line or event. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Error bodies are only excerpted, so reading more than this is waste. */
const MAX_ERROR_BODY_BYTES = 16 * 1024;
/** What we read past a terminal frame so the connection can serve the next request. */
const DRAIN_BYTES = 64 * 1024;
/** Longest wait for the end of a body after its terminal frame. */
const DRAIN_MS = 5000;

/** Where the backend is and how long it may stay silent. */
export interface UpstreamHttpOptions {
  /** Base URL of the backend; a path prefix (`http://host/prefix`) is kept in front of every route. */
  baseUrl: string;
  timeoutSeconds?: number;
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string | null;
}

/** One request to the backend. */
export interface UpstreamRequest {
  method: 'GET' | 'POST';
  /** Route below the base URL, starting with `/`. */
  path: string;
  /** Sent as JSON when present. */
  json?: unknown;
  accept: string;
  /** Our client's signal: aborting it aborts the upstream request at once. */
  signal?: AbortSignal;
  /** Overrides the configured timeout (health probes use a short one). */
  timeoutMs?: number;
}

/**
 * The HTTP side of one backend: keep-alive connections, so a busy playground or benchmark reuses
 * sockets instead of paying a handshake per request, and one `UpstreamExchange` per request.
 */
export class UpstreamHttp {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  private readonly connections: UpstreamConnections;
  private readonly basePath: string;
  private readonly apiKey: string | null;

  constructor(options: UpstreamHttpOptions) {
    const url = new URL(options.baseUrl);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.timeoutMs = Math.max(1, Math.round((options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000));
    this.apiKey = options.apiKey ?? null;
    this.connections = new UpstreamConnections(url.origin, {
      // Our own watchdog bounds headers and silences; undici's timers would fire by other rules.
      headersTimeout: 0,
      bodyTimeout: 0,
      // A host that drops SYNs is unreachable (`network`) after 10 s; below that our watchdog
      // must fire first so a short configured timeout reads as `timeout`, never as a race.
      connect: { timeout: this.timeoutMs > 10_000 ? 10_000 : this.timeoutMs + 1000 },
    });
  }

  /**
   * Sends a request and waits for the response headers, bounded by the timeout. The returned
   * exchange must be read to its end, or `release()`d / `abort()`ed.
   */
  async open(request: UpstreamRequest): Promise<UpstreamExchange> {
    const headers: Record<string, string> = { accept: request.accept, 'user-agent': 'diffusion-monitor' };
    if (this.apiKey !== null) headers.authorization = `Bearer ${this.apiKey}`;
    let body: string | undefined;
    if (request.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.json);
    }
    const path = `${this.basePath}${request.path}`;
    const exchange = new UpstreamExchange(`${this.baseUrl}${request.path}`, request.timeoutMs ?? this.timeoutMs, request.signal);
    await exchange.start(this.connections, { method: request.method, path, headers, body });
    return exchange;
  }

  /** Lets in-flight requests finish briefly, then drops every connection. */
  close(): Promise<void> {
    return this.connections.close();
  }
}

type EndReason = 'timeout' | 'cancelled' | 'released' | 'slowClient';

/**
 * One request/response with its watchdog. The watchdog fires when the backend is silent for the
 * timeout — before the headers, or between frames (`touch()` restarts it) — so a stream that keeps
 * talking is never cut; a whole body (`text()`, `json()`) must arrive within the timeout, so one
 * dripped a byte at a time is cut too. A timeout or our client leaving destroys this request's
 * connection at once. While our own client's buffer is full the body is not read (backpressure,
 * see `clientFlow`); a client that stays full for the timeout is treated as gone. Every failure
 * leaves here as a `DiffusionError`.
 */
export class UpstreamExchange {
  readonly url: string;
  status = 0;
  contentType = '';
  private readonly timeoutMs: number;
  private readonly callerSignal: AbortSignal | undefined;
  private readonly onCallerAbort = (): void => this.end('cancelled');
  private readonly watchdog: NodeJS.Timeout;
  private lease: ConnectionLease | null = null;
  private endReason: EndReason | null = null;
  private gotHeaders = false;
  private body: Dispatcher.ResponseData['body'] | null = null;
  private headers: Dispatcher.ResponseData['headers'] = {};
  private reader: AsyncIterator<Uint8Array> | null = null;
  private readonly decoder = new TextDecoder();
  private ended = false;
  private readingWholeBody = false;
  private waitingOnClient = false;
  /** Aborted when the exchange ends, so a wait on our client ends with it. */
  private readonly stopped = new AbortController();

  constructor(url: string, timeoutMs: number, callerSignal: AbortSignal | undefined) {
    this.url = url;
    this.timeoutMs = timeoutMs;
    this.callerSignal = callerSignal;
    this.watchdog = setTimeout(() => this.end('timeout'), timeoutMs);
    this.watchdog.unref();
    if (callerSignal?.aborted) this.end('cancelled');
    else callerSignal?.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  /** @internal Sends the request on a leased connection and waits for the headers. */
  async start(connections: UpstreamConnections, options: Dispatcher.RequestOptions): Promise<void> {
    if (this.endReason !== null) throw this.release(this.failure(undefined));
    this.lease = connections.lease();
    try {
      const response = await this.lease.client.request(options);
      this.body = response.body;
      this.status = response.statusCode;
      const type = response.headers['content-type'];
      this.contentType = (Array.isArray(type) ? type[0] : type) ?? '';
      this.headers = response.headers;
      this.gotHeaders = true;
    } catch (error) {
      throw this.release(this.failure(error));
    }
    if (this.endReason !== null) throw this.release(this.failure(undefined));
    this.touch();
  }

  /**
   * Throws the `cancelled` or `timeout` error once our client left or the watchdog fired, so frames
   * already buffered are not relayed after the end.
   */
  throwIfEnded(): void {
    if (this.endReason === 'timeout' || this.endReason === 'cancelled' || this.endReason === 'slowClient') throw this.release(this.failure(undefined));
  }

  /** A response header (lower-case name), its first value when repeated. */
  header(name: string): string | undefined {
    const value = this.headers[name];
    return Array.isArray(value) ? value[0] : value;
  }

  /** Restarts the silence timer: the backend just said something. */
  touch(): void {
    if (this.endReason === null) this.watchdog.refresh();
  }

  /**
   * The next decoded piece of the body, or null at its end. The caller decides what counts as
   * progress (`touch`): raw bytes for a JSON body, whole frames for a stream.
   */
  async nextChunk(): Promise<string | null> {
    if (this.ended) return null;
    this.reader ??= this.requireBody()[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
    const ready = clientReady(this.callerSignal, this.stopped.signal);
    if (ready !== null) {
      // Our client's buffer is full: leave the backend's bytes in its socket until it drains.
      this.waitingOnClient = true;
      this.watchdog.refresh();
      await ready;
      this.waitingOnClient = false;
      this.throwIfEnded();
      this.touch();
    }
    let step: IteratorResult<Uint8Array>;
    try {
      step = await this.reader.next();
    } catch (error) {
      throw this.release(this.failure(error));
    }
    this.throwIfEnded();
    if (step.done === true) {
      this.ended = true;
      return this.decoder.decode();
    }
    return this.decoder.decode(step.value, { stream: true });
  }

  /**
   * Reads the whole body as text, which must arrive within the timeout (chunks are not progress:
   * a body dripped one byte at a time would otherwise never end). Past `limitBytes` the body is
   * refused, or with `truncate` cut there and the connection dropped (error bodies are excerpted).
   */
  async text(limitBytes = MAX_BODY_BYTES, options: { truncate?: boolean } = {}): Promise<string> {
    this.readingWholeBody = true;
    let text = '';
    for (let chunk = await this.nextChunk(); chunk !== null; chunk = await this.nextChunk()) {
      text += chunk;
      if (text.length > limitBytes) {
        if (options.truncate === true) {
          this.release(new Error('body truncated'));
          return text.slice(0, limitBytes);
        }
        throw this.release(malformedError(`a body larger than ${limitBytes} bytes`, this.url));
      }
    }
    this.release();
    return text;
  }

  /** Reads the whole body as JSON; unparseable JSON is a `backend` error. */
  async json(): Promise<unknown> {
    const text = await this.text();
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw malformedError('a body that is not JSON', this.url, text);
    }
  }

  /** The taxonomy error for a non-2xx answer, with a body excerpt. */
  async httpError(classify?: ErrorClassifier): Promise<DiffusionError> {
    let text = '';
    try {
      text = await this.text(MAX_ERROR_BODY_BYTES, { truncate: true });
    } catch (error) {
      // A body we cannot read still leaves the status, which is the main news.
      if (error instanceof DiffusionError && (error.type === 'cancelled' || error.type === 'timeout')) return error;
    }
    return httpStatusError(this.status, text, this.url, classify);
  }

  /**
   * Ends the exchange: stops the watchdog and the caller listener, and hands the connection back.
   * With an error the connection is closed; without one, whatever is left after a terminal frame
   * is drained so the connection can serve the next request. Returns `error` so callers can write
   * `throw exchange.release(err)`.
   */
  release<E>(error?: E): E {
    clearTimeout(this.watchdog);
    this.callerSignal?.removeEventListener('abort', this.onCallerAbort);
    if (this.endReason === null) this.endReason = 'released';
    this.stopped.abort();
    if (error !== undefined) this.lease?.discard();
    else this.drain();
    return error as E;
  }

  /** Aborts the request now; its socket is closed, so the backend sees us leave. */
  abort(): void {
    if (this.endReason === null) this.endReason = 'released';
    this.release(new Error('aborted'));
  }

  /** Reads what is left after a terminal frame, bounded in bytes and time, then keeps or drops the connection. */
  private drain(): void {
    const lease = this.lease;
    if (lease === null) return;
    if (this.ended) {
      lease.keep();
      return;
    }
    if (this.body === null) {
      lease.discard();
      return;
    }
    this.reader ??= this.requireBody()[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
    const reader = this.reader;
    const deadline = setTimeout(() => lease.discard(), Math.min(this.timeoutMs, DRAIN_MS));
    deadline.unref();
    void (async () => {
      let bytes = 0;
      try {
        for (let step = await reader.next(); step.done !== true; step = await reader.next()) {
          bytes += step.value.byteLength;
          if (bytes > DRAIN_BYTES) throw new Error('too much after the terminal frame');
        }
        this.ended = true;
        lease.keep();
      } catch {
        lease.discard();
      } finally {
        clearTimeout(deadline);
      }
    })();
  }

  private end(reason: 'timeout' | 'cancelled'): void {
    if (this.endReason !== null) return;
    this.endReason = reason === 'timeout' && this.waitingOnClient ? 'slowClient' : reason;
    clearTimeout(this.watchdog);
    this.stopped.abort();
    // Destroying the connection fails the pending read or request with an error we then map.
    this.lease?.discard();
  }

  private requireBody(): NonNullable<UpstreamExchange['body']> {
    if (this.body === null) throw new DiffusionError('internal', 'upstream body read before the response arrived');
    return this.body;
  }

  private failure(error: unknown): DiffusionError {
    if (this.endReason === 'cancelled') {
      return new DiffusionError('cancelled', 'the client went away; the backend request was aborted', error === undefined ? {} : { cause: error });
    }
    const seconds = this.timeoutMs / 1000;
    if (this.endReason === 'slowClient') {
      return new DiffusionError('cancelled', `the client stopped reading the stream for more than ${seconds} s; it was closed`);
    }
    if (this.endReason === 'timeout') {
      const message = !this.gotHeaders
        ? `backend at ${this.url} did not answer within ${seconds} s (timeout)`
        : this.readingWholeBody
          ? `backend at ${this.url} did not finish sending its answer within ${seconds} s (timeout)`
          : `backend at ${this.url} went silent mid-stream for more than ${seconds} s (timeout)`;
      return new DiffusionError('timeout', message, { details: { timeout_seconds: seconds } });
    }
    return toUpstreamError(error ?? new Error('request ended'), this.url);
  }
}
