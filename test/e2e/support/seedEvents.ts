import type { Endpoint } from '../../../src/shared/endpoints';
import type { ErrorType } from '../../../src/shared/errors';
import type { MetricsStore } from '../../../src/main/metrics/metricsStore';

/** What the seeded database holds, for the tests' assertions. */
export interface SeedTotals {
  requests: number;
  errors: number;
  tokens: number;
  models: string[];
}

const MODELS = ['dream-v0-instruct-7b', 'diffucoder-7b-cpgrpo', 'llada-8b-instruct', 'mercury-coder-small'];
const ENDPOINTS: Endpoint[] = ['generate/stream', 'generate', 'infill/stream', 'infill'];
const ERRORS: ErrorType[] = ['timeout', 'network', 'backend', 'validation'];

/** A small deterministic generator, so every run seeds the same numbers. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * Records `recent` requests spread over the last 55 minutes and `older` ones 2–20 hours ago,
 * with realistic latencies, steps, token counts and a few errors of each kind.
 */
export function seedEvents(store: MetricsStore, options: { recent?: number; older?: number; now?: number; seed?: number } = {}): SeedTotals {
  const next = random(options.seed ?? 42);
  const now = options.now ?? Date.now() / 1000;
  const totals: SeedTotals = { requests: 0, errors: 0, tokens: 0, models: [...MODELS] };
  const add = (startedAt: number): void => {
    const model = MODELS[Math.floor(next() ** 1.6 * MODELS.length)] as string;
    const endpoint = ENDPOINTS[Math.floor(next() ** 1.3 * ENDPOINTS.length)] as Endpoint;
    const stream = endpoint.endsWith('/stream');
    const failed = next() < 0.06;
    const steps = [32, 64, 128][Math.floor(next() * 3)] as number;
    const tokens = failed ? 0 : Math.round(24 + next() * 200);
    const duration = failed && next() < 0.5 ? 120 : 0.25 + (steps / 64) * (0.6 + next() * 1.4) + next() ** 6 * 4;
    const errorType = failed ? (ERRORS[Math.floor(next() * ERRORS.length)] as ErrorType) : undefined;
    store.record({
      endpoint,
      modelId: model,
      userId: next() < 0.7 ? 'vscode' : 'notebook',
      startedAt,
      duration,
      requestId: `seed-${totals.requests}`,
      status: failed ? 502 : 200,
      ...(errorType ? { errorType } : {}),
      params: { max_new_tokens: 256, temperature: 0.2, top_p: 0.9, alg: 'entropy' },
      ...(failed ? {} : { reportedTokenCount: tokens }),
      generationTime: failed ? null : duration * 0.92,
      steps: failed ? null : steps,
      timeToFirstStep: stream && !failed ? 0.04 + next() * 0.25 : null,
      backend: 'dllm',
    });
    totals.requests += 1;
    totals.tokens += tokens;
    if (failed) totals.errors += 1;
  };
  // In time order, as a server would record them (ids grow with time).
  const older = options.older ?? 60;
  for (let i = 0; i < older; i += 1) add(now - 20 * 3600 + (i / older) * 18 * 3600);
  const recent = options.recent ?? 180;
  for (let i = 0; i < recent; i += 1) add(now - 55 * 60 + (i / recent) * 55 * 60 + next() * 10);
  store.flush();
  return totals;
}
