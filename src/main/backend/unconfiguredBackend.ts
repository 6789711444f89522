import { DiffusionError } from '../../shared/errors';
import type { BackendKind } from '../../shared/apiSchemas';
import type { BackendHealth, BackendResult, DiffusionBackend } from './diffusionBackend';

/** What every request is told until a backend URL is set. */
export const UNCONFIGURED_MESSAGE = 'no backend configured — start with --backend URL or set it in Settings';

/**
 * Stands in while no backend URL is set, so the routes need no special case: every run and model
 * list answers `model_unavailable`, and health says `configured: false`.
 */
export class UnconfiguredBackend implements DiffusionBackend {
  readonly kind: BackendKind;
  readonly url = null;

  constructor(kind: BackendKind) {
    this.kind = kind;
  }

  run(): Promise<BackendResult> {
    return Promise.reject(new DiffusionError('model_unavailable', UNCONFIGURED_MESSAGE));
  }

  listModels(): Promise<string[]> {
    return Promise.reject(new DiffusionError('model_unavailable', UNCONFIGURED_MESSAGE));
  }

  health(): Promise<BackendHealth> {
    return Promise.resolve({ configured: false, kind: this.kind, url: null, reachable: null, models: [], last_error: null, checked_at: null });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
