import type { Logger } from '../../shared/logger';
import { silentLogger } from '../../shared/logger';

/** Where the pusher writes: an InfluxDB 1.x database, or an InfluxDB 2.x organisation and bucket. */
export type InfluxTarget = { version: 1; db: string } | { version: 2; org: string; bucket: string };

/** The pusher's settings, as resolved by `config.ts`. */
export interface InfluxPushSettings {
  /** Base URL of the InfluxDB HTTP API, e.g. `http://127.0.0.1:8086`. */
  url: string;
  target: InfluxTarget;
  /**
   * v2: an API token. v1: `user:password` (sent as Basic auth, which every 1.x accepts) or a
   * token (sent as `Authorization: Token`, for 1.8+ and 2.x's v1-compatible API).
   */
  token: string | null;
  intervalSeconds: number;
}

/** The pusher's state, shown in `/api/diffusion/health` under `influx_pusher`. Times are Unix seconds. */
export interface InfluxPusherHealth {
  enabled: true;
  url: string;
  api: 'v1' | 'v2';
  /** `db=NAME` or `org=ORG bucket=BUCKET`. */
  destination: string;
  interval_seconds: number;
  /**
   * `starting` until the first write; `retrying` while writes fail in ways that may heal (InfluxDB
   * down, auth); `failing` when InfluxDB rejected the last write's lines (HTTP 400, e.g. `partial
   * write`), which no retry fixes; `stopped` after `stop()`.
   */
  status: 'starting' | 'ok' | 'retrying' | 'failing' | 'stopped';
  last_success_at: number | null;
  last_attempt_at: number | null;
  last_error: string | null;
  last_error_at: number | null;
  consecutive_failures: number;
  /** Failed write attempts since start. */
  failed_attempts: number;
  /** Snapshots written since start. */
  pushed_batches: number;
  /** Snapshots waiting to be written (kept across failures, oldest first). */
  pending_batches: number;
  pending_lines: number;
  /** Snapshots given up: evicted by the queue limit or rejected by InfluxDB as malformed (HTTP 400). */
  dropped_batches: number;
  next_retry_at: number | null;
}

export type InfluxPusherStatus = InfluxPusherHealth | { enabled: false };

export interface InfluxPusherOptions {
  settings: InfluxPushSettings;
  /** Renders the lines of one snapshot (the `influxdb` export); called when a push is due. */
  render: () => string;
  log?: Logger;
  /** Injectable for tests; defaults to the global (undici) fetch. */
  fetch?: typeof fetch;
  /** Snapshots kept while InfluxDB is unreachable; the oldest go first. */
  maxPendingBatches?: number;
  /** Lines per HTTP write when catching up on a backlog. */
  maxLinesPerWrite?: number;
  requestTimeoutMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

interface Batch {
  text: string;
  lines: number;
}

class WriteFailure extends Error {
  constructor(
    message: string,
    /** False when the same data can never succeed (malformed lines): the batch is dropped. */
    readonly retryable: boolean,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

const countLines = (text: string): number => {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n += 1;
  return n;
};

/** The write endpoint of each API version; the base URL may carry a path prefix (reverse proxy). */
export function influxWriteUrl(settings: Pick<InfluxPushSettings, 'url' | 'target'>): string {
  const base = settings.url.replace(/\/+$/, '');
  const target = settings.target;
  const query =
    target.version === 1
      ? new URLSearchParams({ db: target.db, precision: 'ns' })
      : new URLSearchParams({ org: target.org, bucket: target.bucket, precision: 'ns' });
  return `${base}/${target.version === 1 ? 'write' : 'api/v2/write'}?${query.toString()}`;
}

function authorization(settings: InfluxPushSettings): string | null {
  const token = settings.token;
  if (token === null || token === '') return null;
  if (settings.target.version === 1 && token.includes(':')) return `Basic ${Buffer.from(token).toString('base64')}`;
  return `Token ${token}`;
}

/** The URL without credentials, for health and logs. */
function displayUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/+$/, '');
  } catch {
    return raw;
  }
}

function retryAfterMs(header: string | null): number | null {
  if (header === null) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

/**
 * Writes the `influxdb` export to InfluxDB on a schedule. Each tick renders one snapshot (all-time
 * totals stamped with the tick's time) and queues it; the queue is written oldest first, so a
 * snapshot taken while InfluxDB was down still lands, with its own timestamp, once it is back.
 * Failed writes are retried with exponential back-off (jittered, `Retry-After` honoured); the
 * queue is bounded. Everything runs on timers off the request path: a request never waits on it.
 */
export class InfluxPusher {
  private readonly settings: InfluxPushSettings;
  private readonly render: () => string;
  private readonly log: Logger;
  private readonly fetchImpl: typeof fetch;
  private readonly maxPendingBatches: number;
  private readonly maxLinesPerWrite: number;
  private readonly requestTimeoutMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly writeUrl: string;
  private readonly auth: string | null;

  private queue: Batch[] = [];
  private interval: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private stopping = false;
  private readonly state: Omit<InfluxPusherHealth, 'pending_batches' | 'pending_lines'>;

  constructor(options: InfluxPusherOptions) {
    this.settings = options.settings;
    this.render = options.render;
    this.log = options.log ?? silentLogger;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.maxPendingBatches = options.maxPendingBatches ?? 1000;
    this.maxLinesPerWrite = options.maxLinesPerWrite ?? 5000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.minBackoffMs = options.minBackoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 60_000;
    this.writeUrl = influxWriteUrl(this.settings);
    this.auth = authorization(this.settings);
    const target = this.settings.target;
    this.state = {
      enabled: true,
      url: displayUrl(this.settings.url),
      api: target.version === 1 ? 'v1' : 'v2',
      destination: target.version === 1 ? `db=${target.db}` : `org=${target.org} bucket=${target.bucket}`,
      interval_seconds: this.settings.intervalSeconds,
      status: 'starting',
      last_success_at: null,
      last_attempt_at: null,
      last_error: null,
      last_error_at: null,
      consecutive_failures: 0,
      failed_attempts: 0,
      pushed_batches: 0,
      dropped_batches: 0,
      next_retry_at: null,
    };
  }

  /** Pushes a first snapshot at once, then one per interval. */
  start(): void {
    if (this.interval || this.stopping) return;
    this.interval = setInterval(() => this.tick(), this.settings.intervalSeconds * 1000);
    this.interval.unref();
    this.log.info(`influx pusher: writing to ${this.state.url} (${this.state.destination}) every ${this.settings.intervalSeconds} s`);
    this.tick();
  }

  health(): InfluxPusherHealth {
    return {
      ...this.state,
      pending_batches: this.queue.length,
      pending_lines: this.queue.reduce((acc, b) => acc + b.lines, 0),
    };
  }

  /** Queues a snapshot now and starts writing unless a back-off is running. */
  tick(): void {
    if (this.stopping) return;
    this.snapshot();
    this.kick();
  }

  /** Resolves when the current write (if any) is over. For tests and shutdown. */
  async idle(): Promise<void> {
    while (this.sending) await this.sending;
  }

  /**
   * Stops the schedule. With `flush` (the default) it queues a last snapshot and makes one bounded
   * attempt to write everything still pending, so a clean shutdown loses nothing InfluxDB could take.
   */
  async stop(options: { flush?: boolean; timeoutMs?: number } = {}): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.interval) clearInterval(this.interval);
    this.interval = undefined;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, options.timeoutMs ?? 3000).unref());
    await Promise.race([this.idle(), deadline]);
    // A write still hanging past the deadline keeps its batches; starting another would send them twice.
    if (options.flush !== false && !this.sending) {
      this.snapshot();
      this.kick();
      await Promise.race([this.idle(), deadline]);
    }
    this.state.status = 'stopped';
    this.state.next_retry_at = null;
    if (this.queue.length > 0) this.log.warn(`influx pusher: ${this.queue.length} snapshots could not be written before stopping`);
  }

  private snapshot(): void {
    let text: string;
    try {
      text = this.render();
    } catch (error) {
      this.noteError(`rendering the snapshot failed: ${(error as Error).message}`);
      return;
    }
    if (text === '') return;
    this.queue.push({ text: text.endsWith('\n') ? text : `${text}\n`, lines: countLines(text) || 1 });
    if (this.queue.length > this.maxPendingBatches) {
      const evicted = this.queue.length - this.maxPendingBatches;
      this.queue.splice(0, evicted);
      this.state.dropped_batches += evicted;
    }
  }

  private kick(): void {
    if (this.sending || this.retryTimer || this.queue.length === 0) return;
    this.sending = this.drain().finally(() => {
      this.sending = undefined;
    });
  }

  /** Writes the queue oldest first until it is empty or a write fails. */
  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const take = this.takeFront();
      const body = take.map((b) => b.text).join('');
      this.state.last_attempt_at = Date.now() / 1000;
      try {
        await this.write(body);
      } catch (error) {
        const failure = error instanceof WriteFailure ? error : new WriteFailure((error as Error).message, true);
        this.state.failed_attempts += 1;
        this.noteError(failure.message);
        if (!failure.retryable) {
          this.queue.splice(0, take.length);
          this.state.dropped_batches += take.length;
          this.state.consecutive_failures += 1;
          if (!this.stopping) this.state.status = 'failing';
          this.log.error(`influx pusher: InfluxDB rejected ${take.length} snapshots, dropped: ${failure.message}`);
          continue;
        }
        this.scheduleRetry(failure.retryAfterMs);
        return;
      }
      this.queue.splice(0, take.length);
      if (this.state.consecutive_failures > 0) {
        this.log.info(`influx pusher: writing to ${this.state.url} works again after ${this.state.consecutive_failures} failed attempts`);
      }
      this.state.pushed_batches += take.length;
      this.state.consecutive_failures = 0;
      this.state.last_success_at = Date.now() / 1000;
      if (!this.stopping) this.state.status = 'ok';
      this.state.next_retry_at = null;
    }
  }

  /** The oldest batches up to `maxLinesPerWrite` lines (always at least one). */
  private takeFront(): Batch[] {
    const out: Batch[] = [];
    let lines = 0;
    for (const batch of this.queue) {
      if (out.length > 0 && lines + batch.lines > this.maxLinesPerWrite) break;
      out.push(batch);
      lines += batch.lines;
    }
    return out;
  }

  private async write(body: string): Promise<void> {
    const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8' };
    if (this.auth) headers.Authorization = this.auth;
    let response: Response;
    try {
      response = await this.fetchImpl(this.writeUrl, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.requestTimeoutMs) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const name = (error as Error).name;
      if (name === 'TimeoutError') throw new WriteFailure(`no answer within ${this.requestTimeoutMs} ms`, true);
      throw new WriteFailure(cause?.code ?? cause?.message ?? (error as Error).message, true);
    }
    if (response.ok) {
      await response.body?.cancel();
      return;
    }
    const text = (await response.text().catch(() => '')).trim().slice(0, 300);
    const message = `HTTP ${response.status}${text ? `: ${text}` : ''}`;
    // 400: malformed or conflicting lines, which no retry will fix. Everything else (auth, missing
    // database, overload, outages) may heal, so it is retried.
    throw new WriteFailure(message, response.status !== 400, retryAfterMs(response.headers.get('retry-after')));
  }

  private scheduleRetry(retryAfter: number | null): void {
    this.state.consecutive_failures += 1;
    this.state.status = 'retrying';
    const n = this.state.consecutive_failures;
    const backoff = Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** (n - 1)) * (0.8 + Math.random() * 0.4);
    const delay = Math.min(Math.max(backoff, retryAfter ?? 0), this.maxBackoffMs * 5);
    if (n === 1 || n % 10 === 0) {
      this.log.warn(`influx pusher: writing to ${this.state.url} failed (${this.state.last_error ?? 'unknown'}); retrying in ${Math.round(delay)} ms`);
    }
    if (this.stopping) return;
    this.state.next_retry_at = (Date.now() + delay) / 1000;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, delay);
    this.retryTimer.unref();
  }

  private noteError(message: string): void {
    this.state.last_error = message;
    this.state.last_error_at = Date.now() / 1000;
  }
}
