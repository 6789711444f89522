import { describe, expect, it } from 'vitest';
import { renderPrometheus } from '../../../src/main/export/prometheus';
import { STEPS_BUCKETS } from '../../../src/main/metrics/buckets';
import { InFlightRequests } from '../../../src/main/metrics/inFlightRequests';
import { MetricsStore } from '../../../src/main/metrics/metricsStore';
import { RollupCell } from '../../../src/main/metrics/rollupCell';
import { ERROR_TYPES } from '../../../src/shared/errors';
import { recordVariedEvents } from '../../fixtures/monitoring/variedEvents';

const ALLOWED_LABELS = new Set(['endpoint', 'event_type', 'model', 'error_type', 'le', 'api']);

function withStore<T>(fn: (store: MetricsStore) => T): T {
  const store = MetricsStore.open({ path: ':memory:', clock: () => 1_800_000_000 });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

/** Sample lines as [name, labels, value]; label values may hold escaped quotes. */
function samples(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const out: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(match, `unparseable sample line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const m of (match?.[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1] as string] = m[2] as string;
    out.push({ name: match?.[1] as string, labels, value: Number(match?.[3]) });
  }
  return out;
}

describe('Prometheus families beyond the seed', () => {
  it('declares every family with HELP and TYPE', async () => {
    const text = await withStore((store) => {
      recordVariedEvents(store, 80);
      return renderPrometheus(store.cells());
    });
    for (const [name, type] of [
      ['diffusion_llm_request_duration_seconds', 'histogram'],
      ['diffusion_llm_time_to_first_step_seconds', 'histogram'],
      ['diffusion_llm_stream_duration_seconds', 'histogram'],
      ['diffusion_llm_denoising_steps', 'histogram'],
      ['diffusion_llm_errors_by_type_total', 'counter'],
      ['diffusion_llm_tokens_by_model_total', 'counter'],
      ['diffusion_llm_in_flight_requests', 'gauge'],
    ]) {
      expect(text).toContain(`# TYPE ${name} ${type}`);
      expect(text).toMatch(new RegExp(`^# HELP ${name} \\S`, 'm'));
    }
  });

  it('uses only low-cardinality labels, never request ids', async () => {
    const text = await withStore((store) => {
      recordVariedEvents(store, 80);
      return renderPrometheus(store.cells(), { inFlight: { generate: 1 } });
    });
    for (const sample of samples(text)) {
      for (const label of Object.keys(sample.labels)) expect(ALLOWED_LABELS, `${sample.name} has label ${label}`).toContain(label);
      expect(Object.values(sample.labels).join(' ')).not.toMatch(/varied-\d+/);
    }
  });

  it('counts errors by type, every type declared at zero for each (event type, model) seen', async () => {
    const text = await withStore((store) => {
      store.record({
        endpoint: 'infill',
        modelId: 'm',
        userId: 'u',
        startedAt: 1,
        duration: 0.1,
        requestId: 'a',
        status: 504,
        errorType: 'timeout',
        params: {},
      });
      store.record({
        endpoint: 'infill',
        modelId: 'm',
        userId: 'u',
        startedAt: 2,
        duration: 0.1,
        requestId: 'b',
        status: 504,
        errorType: 'timeout',
        params: {},
      });
      store.record({
        endpoint: 'infill',
        modelId: 'm',
        userId: 'u',
        startedAt: 3,
        duration: 0.1,
        requestId: 'c',
        status: 502,
        errorType: 'network',
        params: {},
      });
      return renderPrometheus(store.cells());
    });
    const errors = samples(text).filter((s) => s.name === 'diffusion_llm_errors_by_type_total');
    expect(errors.map((s) => s.labels.error_type).sort()).toEqual([...ERROR_TYPES].sort());
    const value = (type: string): number | undefined => errors.find((s) => s.labels.error_type === type)?.value;
    expect(value('timeout')).toBe(2);
    expect(value('network')).toBe(1);
    expect(value('internal')).toBe(0);
    expect(errors.every((s) => s.labels.event_type === 'diffusion_infill' && s.labels.model === 'm')).toBe(true);
  });

  it('builds a cumulative denoising-steps histogram on the documented bounds', async () => {
    const text = await withStore((store) => {
      for (const [i, steps] of [1, 3, 64, 64, 5000].entries()) {
        store.record({
          endpoint: 'generate',
          modelId: 'm',
          userId: 'u',
          startedAt: i,
          duration: 0.1,
          requestId: `s${i}`,
          status: 200,
          params: {},
          outputText: 'abcd',
          steps,
        });
      }
      store.record({
        endpoint: 'generate',
        modelId: 'm',
        userId: 'u',
        startedAt: 9,
        duration: 0.1,
        requestId: 'none',
        status: 200,
        params: {},
        outputText: 'abcd',
      });
      return renderPrometheus(store.cells());
    });
    const buckets = samples(text).filter((s) => s.name === 'diffusion_llm_denoising_steps_bucket');
    expect(buckets.map((s) => s.labels.le)).toEqual([...STEPS_BUCKETS.map(String), '+Inf']);
    const at = (le: string): number | undefined => buckets.find((s) => s.labels.le === le)?.value;
    expect([at('1'), at('2'), at('4'), at('32'), at('64'), at('4096'), at('+Inf')]).toEqual([1, 1, 2, 2, 4, 4, 5]);
    const count = samples(text).find((s) => s.name === 'diffusion_llm_denoising_steps_count');
    const sum = samples(text).find((s) => s.name === 'diffusion_llm_denoising_steps_sum');
    expect(count?.value).toBe(5);
    expect(sum?.value).toBe(1 + 3 + 64 + 64 + 5000);
  });

  it('keeps the stream-duration histogram to stream event types, agreeing with request duration', async () => {
    const text = await withStore((store) => {
      recordVariedEvents(store, 40);
      return renderPrometheus(store.cells());
    });
    const stream = samples(text).filter((s) => s.name.startsWith('diffusion_llm_stream_duration_seconds'));
    expect(stream.length).toBeGreaterThan(0);
    expect(new Set(stream.map((s) => s.labels.event_type))).toEqual(new Set(['diffusion_generate_stream', 'diffusion_infill_stream']));
    for (const s of stream.filter((x) => x.name.endsWith('_count'))) {
      const request = samples(text).find(
        (r) => r.name === 'diffusion_llm_request_duration_seconds_count' && r.labels.event_type === s.labels.event_type && r.labels.model === s.labels.model,
      );
      expect(request?.value).toBe(s.value);
    }
  });

  it('reports tokens by model, summing to the seed per-event-type totals', async () => {
    const text = await withStore((store) => {
      recordVariedEvents(store, 60);
      return renderPrometheus(store.cells());
    });
    const byModel = samples(text).filter((s) => s.name === 'diffusion_llm_tokens_by_model_total');
    const seed = samples(text).filter((s) => s.name === 'diffusion_llm_tokens_total');
    for (const t of seed) {
      const sum = byModel.filter((m) => m.labels.event_type === t.labels.event_type).reduce((acc, m) => acc + m.value, 0);
      expect(sum, t.labels.event_type).toBe(t.value);
    }
  });

  it('exports the in-flight gauge for every endpoint from the live tracker', async () => {
    const inFlight = new InFlightRequests();
    inFlight.start('generate/stream');
    inFlight.start('generate/stream');
    inFlight.start('infill');
    inFlight.end('infill');
    const text = await withStore((store) => renderPrometheus(store.cells(), { inFlight: inFlight.snapshot() }));
    const gauge = samples(text).filter((s) => s.name === 'diffusion_llm_in_flight_requests');
    expect(Object.fromEntries(gauge.map((s) => [s.labels.endpoint, s.value]))).toEqual({ generate: 0, infill: 0, 'generate/stream': 2, 'infill/stream': 0 });
  });

  it('escapes a hostile model id in every new family', async () => {
    const hostile = 'evil"} 1\ndiffusion_llm_requests_total{endpoint="generate"} 999\\';
    const text = await withStore((store) => {
      store.record({
        endpoint: 'generate/stream',
        modelId: hostile,
        userId: 'u',
        startedAt: 1,
        duration: 0.5,
        requestId: 'h',
        status: 500,
        errorType: 'internal',
        params: {},
        steps: 4,
        timeToFirstStep: 0.01,
      });
      return renderPrometheus(store.cells());
    });
    expect(text).not.toMatch(/^diffusion_llm_requests_total\{endpoint="generate"\} 999/m);
    const models = new Set(
      samples(text)
        .filter((s) => s.labels.model !== undefined)
        .map((s) => s.labels.model),
    );
    expect(models).toEqual(new Set(['evil\\"} 1\\ndiffusion_llm_requests_total{endpoint=\\"generate\\"} 999\\\\']));
  });

  it('reads rollups stored before the steps histogram existed as an empty histogram', () => {
    const cell = new RollupCell();
    cell.add({
      eventType: 'diffusion_generate',
      modelId: 'm',
      duration: 1,
      timestamp: 1,
      success: true,
      errorType: null,
      tokens: 3,
      generationTime: null,
      steps: 16,
      timeToFirstStep: null,
    });
    const row = cell.toRow();
    const data = JSON.parse(row.data) as Record<string, unknown>;
    delete data.stepsBuckets;
    const old = RollupCell.fromRow({ ...row, data: JSON.stringify(data) });
    expect(old.counters.stepsBuckets).toEqual(new Array(STEPS_BUCKETS.length + 1).fill(0));
    expect(old.counters.requests).toBe(1);
  });

  it('speaks OpenMetrics for the new families: counters without _total in TYPE, # EOF last', async () => {
    const text = await withStore((store) => {
      recordVariedEvents(store, 20);
      return renderPrometheus(store.cells(), { openMetrics: true });
    });
    expect(text).toContain('# TYPE diffusion_llm_errors_by_type counter');
    expect(text).toContain('# TYPE diffusion_llm_tokens_by_model counter');
    expect(text).toContain('# TYPE diffusion_llm_denoising_steps histogram');
    expect(text.trimEnd().endsWith('# EOF')).toBe(true);
  });
});
