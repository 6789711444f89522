import { performance } from 'node:perf_hooks';
import { resolveConfig } from '../src/main/config';
import { startCore } from '../src/main/core';
import { renderPrometheus } from '../src/main/export/prometheus';
import { silentLogger } from '../src/shared/logger';
import { MetricsStore } from '../src/main/metrics/metricsStore';

/** Runs in a fresh process: start-up of the store and of the whole server, then query costs and RSS. */
const path = process.argv[2] as string;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const baselineRssMb = process.memoryUsage().rss / 2 ** 20;
let t = performance.now();
const store = MetricsStore.open({ path });
const startupMs = performance.now() - t;

const summaryTimes: number[] = [];
const exportTimes: number[] = [];
for (let i = 0; i < 30; i += 1) {
  t = performance.now();
  store.summary({ recentLimit: 20 });
  summaryTimes.push(performance.now() - t);
  t = performance.now();
  await renderPrometheus(store.cells());
  exportTimes.push(performance.now() - t);
}
const rssMb = process.memoryUsage().rss / 2 ** 20;
store.close();

t = performance.now();
const core = await startCore(resolveConfig({ argv: ['--port', '0', '--db', path], env: {}, cwd: process.cwd() }), { log: silentLogger });
const serverStartupMs = performance.now() - t;
await core.stop();

process.stdout.write(
  `${JSON.stringify({ startupMs, serverStartupMs, summaryMs: median(summaryTimes), prometheusMs: median(exportTimes), rssMb, baselineRssMb })}\n`,
);
