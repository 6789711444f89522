import { describe, expect, it } from 'vitest';
import { renderCsvChunks } from '../../../src/main/export/csv';
import { renderInflux } from '../../../src/main/export/influx';
import { renderPrometheus } from '../../../src/main/export/prometheus';
import { MetricsStore } from '../../../src/main/metrics/metricsStore';
import { RollupCell, apiCounts } from '../../../src/main/metrics/rollupCell';
import type { ApiName } from '../../../src/shared/apis';
import { seedExampleRows, writeSeedDatabase } from '../../fixtures/seedDatabase';
import { tempDir } from '../../fixtures/tempDir';

function record(store: MetricsStore, i: number, api: ApiName | undefined, failed = false): void {
  store.record({
    endpoint: 'infill',
    modelId: 'm',
    userId: 'u',
    startedAt: store.now(),
    duration: 0.1,
    requestId: `r${i}`,
    status: failed ? 502 : 200,
    ...(failed ? { errorType: 'backend' as const } : { outputText: 'x'.repeat(40) }),
    params: {},
    ...(api ? { api } : {}),
  });
}

describe('requests per API (the door they came through)', () => {
  it('counts requests, errors and tokens per door in the summary, the Prometheus and InfluxDB exports and the CSV', async () => {
    const store = MetricsStore.open({ path: ':memory:', clock: () => 1_800_000_000 });
    try {
      record(store, 1, 'fim');
      record(store, 2, 'fim', true);
      record(store, 3, 'llamacpp_infill');
      record(store, 4, undefined);
      const { apis } = store.summary();
      expect(apis.fim).toEqual({ requests: 2, errors: 1, success_rate: 50, tokens: 10 });
      expect(apis.llamacpp_infill).toMatchObject({ requests: 1, errors: 0 });
      expect(apis.diffusion).toMatchObject({ requests: 1 });
      expect(apis.openai_chat).toEqual({ requests: 0, errors: 0, success_rate: 0, tokens: 0 });

      const prometheus = await renderPrometheus(store.cells());
      expect(prometheus).toMatch(/^diffusion_llm_requests_by_api_total\{api="fim"\} 2$/m);
      expect(prometheus).toMatch(/^diffusion_llm_errors_by_api_total\{api="fim"\} 1$/m);
      expect(prometheus).toMatch(/^diffusion_llm_requests_by_api_total\{api="openai_chat"\} 0$/m);
      expect(renderInflux(store.cells(), 1_800_000_000)).toMatch(/^diffusion_llm,type=api,api=fim requests=2,errors=1,tokens=10 \d+$/m);

      let csv = '';
      for await (const chunk of renderCsvChunks(store)) csv += chunk;
      const [header, ...rows] = csv.trim().split('\r\n');
      const column = header?.split(',').indexOf('api') ?? -1;
      expect(rows.map((row) => row.split(',')[column])).toEqual(['fim', 'fim', 'llamacpp_infill', 'diffusion']);
    } finally {
      store.close();
    }
  });

  it('gives what cells stored before the front door hold to our own routes, and keeps the breakdown across a restart', () => {
    const legacy = RollupCell.fromRow({ data: JSON.stringify({ requests: 5, errors: 1, tokens: 50 }) });
    expect(apiCounts(legacy.counters)).toEqual(new Map([['diffusion', { requests: 5, errors: 1, tokens: 50 }]]));

    const dir = tempDir();
    const path = dir.file('metrics.db');
    writeSeedDatabase(path, seedExampleRows(1_800_000_000 - 60));
    try {
      const first = MetricsStore.open({ path, clock: () => 1_800_000_000 });
      record(first, 1, 'openai_chat');
      first.close();
      const second = MetricsStore.open({ path, clock: () => 1_800_000_000 });
      const { apis, overall } = second.summary();
      second.close();
      expect(apis.openai_chat?.requests).toBe(1);
      // The seed's rows carry no `api`: they came through the seed's own routes.
      expect(apis.diffusion?.requests).toBe(overall.total_requests - 1);
      expect(apis.diffusion?.requests).toBeGreaterThan(0);
    } finally {
      dir.cleanup();
    }
  });

  it('labels a foreign row naming an unknown door `other`, never with its raw value', async () => {
    const store = MetricsStore.open({ path: ':memory:', clock: () => 1_800_000_000 });
    try {
      store.recordRow({
        model_id: 'm',
        user_id: 'u',
        event_type: 'diffusion_generate',
        duration: 0.1,
        timestamp: 1_800_000_000,
        metadata: JSON.stringify({ api: 'evil"}\n' }),
      });
      expect(store.summary().apis.other?.requests).toBe(1);
      expect(await renderPrometheus(store.cells())).toMatch(/^diffusion_llm_requests_by_api_total\{api="other"\} 1$/m);
    } finally {
      store.close();
    }
  });
});
