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

/**
 * The backend part of `/api/diffusion/health`: one model-list probe with a short timeout, cached
 * briefly, and shared between concurrent callers. Never throws.
 */
export class HealthProbe {
  private readonly options: HealthProbeOptions;
  private cached: { at: number; health: BackendHealth } | null = null;
  private inFlight: Promise<BackendHealth> | null = null;

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
      health = { configured: true, kind, url, reachable, models: [], last_error: message, checked_at: now() / 1000 };
    }
    this.cached = { at: now(), health };
    return health;
  }
}
