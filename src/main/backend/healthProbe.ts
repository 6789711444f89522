import { DiffusionError } from '../../shared/errors';
import type { BackendKind } from '../../shared/apiSchemas';
import type { BackendHealth } from './diffusionBackend';

/** Health checks must answer fast even when the backend hangs. */
export const HEALTH_TIMEOUT_MS = 3000;
/** Dashboards poll health every second or two; one probe serves them all for this long. */
export const HEALTH_CACHE_MS = 5000;

export interface HealthProbeOptions {
  kind: BackendKind;
  url: string;
  /** Lists the backend's models within `timeoutMs`, throwing a `DiffusionError` on failure. */
  listModels: (timeoutMs: number) => Promise<string[]>;
  now?: () => number;
}

/** Where each protocol lists its models: a 404 there usually means the wrong `--backend-kind`. */
const MODEL_LIST_PATH: Partial<Record<BackendKind, string>> = { dllm: '/api/diffusion/models', openai: '/v1/models' };

/** A model list that is not there says which protocol was tried, so a mismatch is not silent. */
function protocolHint(kind: BackendKind, error: unknown, message: string): string {
  const status = error instanceof DiffusionError ? (error.details as { upstream_status?: unknown } | undefined)?.upstream_status : undefined;
  const path = MODEL_LIST_PATH[kind];
  if ((status !== 404 && status !== 405) || path === undefined) return message;
  const other = (Object.keys(MODEL_LIST_PATH) as BackendKind[]).filter((k) => k !== kind);
  return `${message} — the ${kind} protocol lists models at ${path}; if this server speaks ${other.join(' or ')}, set the backend protocol (--backend-kind) to match`;
}

/**
 * The backend part of `/api/diffusion/health`: one model-list probe with a short timeout, cached
 * briefly, and shared between concurrent callers. Never throws.
 */
export class HealthProbe {
  private readonly options: HealthProbeOptions;
  private cached: { at: number; health: BackendHealth } | null = null;
  private inFlight: Promise<BackendHealth> | null = null;
  /** When the backend's reachability last changed, as the probes saw it. */
  private state: { reachable: boolean; since: number } | null = null;

  constructor(options: HealthProbeOptions) {
    this.options = options;
  }

  check(): Promise<BackendHealth> {
    const now = this.options.now ?? Date.now;
    if (this.cached !== null && now() - this.cached.at < HEALTH_CACHE_MS) return Promise.resolve(this.cached.health);
    this.inFlight ??= this.probe(now).finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async probe(now: () => number): Promise<BackendHealth> {
    const { kind, url } = this.options;
    let health: BackendHealth;
    try {
      const models = await this.options.listModels(HEALTH_TIMEOUT_MS);
      health = { configured: true, kind, url, reachable: true, models, last_error: null, checked_at: now() / 1000 };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // A backend that answers with an error is reachable, just not well; only silence or a
      // failed connection makes it unreachable.
      const reachable = error instanceof DiffusionError && error.type !== 'network' && error.type !== 'timeout';
      health = { configured: true, kind, url, reachable, models: [], last_error: protocolHint(kind, error, message), checked_at: now() / 1000 };
    }
    const reachable = health.reachable === true && health.last_error === null;
    if (this.state === null || this.state.reachable !== reachable) this.state = { reachable, since: now() / 1000 };
    health.since = this.state.since;
    this.cached = { at: now(), health };
    return health;
  }
}
