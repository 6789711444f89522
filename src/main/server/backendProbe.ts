import type { BackendTarget } from '../../shared/apiSchemas';
import { createBackend } from '../backend/createBackend';

/** How long Settings' "test connection" waits for a backend, at most. */
export const PROBE_TIMEOUT_SECONDS = 10;

/**
 * Lists the models of a backend that is not (yet) the configured one, with a client built just
 * for the probe; failures arrive as the client's `DiffusionError`s.
 */
export async function probeBackend(target: BackendTarget, timeoutSeconds: number, signal: AbortSignal): Promise<string[]> {
  const backend = createBackend({
    kind: target.kind,
    url: target.url.replace(/\/+$/, ''),
    model: null,
    timeoutSeconds: Math.min(timeoutSeconds, PROBE_TIMEOUT_SECONDS),
    apiKey: target.apiKey ?? null,
  });
  try {
    return await backend.listModels(signal);
  } finally {
    await backend.close();
  }
}
