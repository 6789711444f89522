import { DiffusionError } from '../../shared/errors';
import type { BackendHealth, BackendResult, DiffusionBackend } from './diffusionBackend';

/** What every request is told until a backend URL is set. */
export const UNCONFIGURED_MESSAGE = 'no backend (started with --backend none): start with --backend URL, or without --backend for the built-in model';

/**
 * Stands in when the user turned every backend off (`--backend none`), so the routes need no
 * special case: every run and model list answers `model_unavailable`, and health says
 * `configured: false`.
 */
export class UnconfiguredBackend implements DiffusionBackend {
  readonly kind = 'none' as const;
  readonly url = null;

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
