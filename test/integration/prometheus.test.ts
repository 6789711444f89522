import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src/main/core';
import { acceptRewritingProxy } from '../fixtures/monitoring/acceptProxy';
import { dashboardQueries } from '../fixtures/monitoring/grafanaQueries';
import { PrometheusServer } from '../fixtures/monitoring/prometheusServer';
import { hasCommand, waitFor } from '../fixtures/monitoring/programs';
import { addGenerateRequests, startSeededCore } from '../fixtures/monitoring/seededCore';
import { recordVariedEvents } from '../fixtures/monitoring/variedEvents';
import { tempDir } from '../fixtures/tempDir';

const SHIPPED_CONFIG = fileURLToPath(new URL('../../monitoring/prometheus/prometheus.yml', import.meta.url));
const SEED_JOB = 'reynard-diffusion-llm';
const TEXT_JOB = 'reynard-diffusion-llm-text-format';
const ALIAS_JOB = 'diffusion-monitor-metrics-alias';

if (!hasCommand('prometheus') || !hasCommand('promtool')) {
  throw new Error('the integration suite needs Prometheus: apt-get install -y prometheus');
}

/**
 * The shipped config (the seed's scrape job verbatim) with only the target and the scrape interval
 * changed, plus two jobs of our own: one forcing text 0.0.4 through an Accept-rewriting proxy, one
 * on the conventional `/metrics` path.
 */
function scrapeConfig(serverPort: number, textProxyPort: number): string {
  const shipped = readFileSync(SHIPPED_CONFIG, 'utf8');
  const target = 'targets: ["localhost:7000"]';
  const interval = 'scrape_interval: 15s';
  expect(shipped, 'the shipped config changed shape; update this test').toContain(target);
  expect(shipped).toContain(interval);
  expect(shipped).toContain(
    `job_name: "${SEED_JOB}"\n    static_configs:\n      - ${target}\n    metrics_path: "/api/diffusion/metrics/export"\n    params:\n      format: ["prometheus"]`,
  );
  return `${shipped.replace(target, `targets: ["127.0.0.1:${serverPort}"]`).replace(interval, 'scrape_interval: 1s\n  scrape_timeout: 1s')}
  - job_name: "${TEXT_JOB}"
    static_configs:
      - targets: ["127.0.0.1:${textProxyPort}"]
    metrics_path: "/api/diffusion/metrics/export"
    params:
      format: ["prometheus"]
  - job_name: "${ALIAS_JOB}"
    static_configs:
      - targets: ["127.0.0.1:${serverPort}"]
`;
}

describe('Prometheus scrapes the headless server', () => {
  const dir = tempDir('prom-it-');
  let core: Core | undefined;
  let prometheus: PrometheusServer | undefined;
  let proxy: Awaited<ReturnType<typeof acceptRewritingProxy>> | undefined;
  const scrapes: Array<{ url: string; accept: string; contentType: string }> = [];

  const value = async (expr: string): Promise<number | undefined> => {
    const result = await prometheus?.query(expr);
    return result && result.length === 1 ? Number(result[0]?.value[1]) : undefined;
  };
  const waitForValue = (expr: string, expected: number, timeoutMs = 30_000): Promise<true> =>
    waitFor(`${expr} == ${expected}`, async () => ((await value(expr)) === expected ? true : undefined), timeoutMs);

  beforeAll(async () => {
    core = await startSeededCore(dir.file('metrics.db'));
    // Observe what each scraper asked for and got; Fastify passes its headers to writeHead directly.
    core.server.app.server.on('request', (req, res) => {
      const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => typeof res;
      res.writeHead = ((...args: unknown[]) => {
        const headers = args.find((a): a is Record<string, unknown> => typeof a === 'object' && a !== null && !Array.isArray(a));
        const contentType = Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
        scrapes.push({ url: req.url ?? '', accept: String(req.headers.accept ?? ''), contentType: String(contentType ?? res.getHeader('content-type') ?? '') });
        return writeHead(...args);
      }) as typeof res.writeHead;
    });
    proxy = await acceptRewritingProxy(core.server.port, 'text/plain;version=0.0.4;q=1.0');
    prometheus = await PrometheusServer.start(dir.path, scrapeConfig(core.server.port, proxy.port));
  });

  afterAll(async () => {
    await prometheus?.stop();
    await proxy?.close();
    await core?.stop();
    dir.cleanup();
  });

  it('the shipped prometheus.yml passes promtool check config', () => {
    const result = spawnSync('promtool', ['check', 'config', SHIPPED_CONFIG], { encoding: 'utf8', timeout: 30_000 });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
  });

  it("finds the seeded values through the seed's scrape job, target up", async () => {
    await waitForValue(`diffusion_llm_requests_total{job="${SEED_JOB}",endpoint="generate"}`, 10);
    expect(await value(`diffusion_llm_requests_total{job="${SEED_JOB}",endpoint="infill"}`)).toBe(5);
    expect(await value(`diffusion_llm_errors_total{job="${SEED_JOB}",endpoint="generate"}`)).toBe(2);
    expect(await value(`diffusion_llm_errors_total{job="${SEED_JOB}",endpoint="infill"}`)).toBe(1);
    expect(await value(`diffusion_llm_latency_seconds{job="${SEED_JOB}",event_type="diffusion_generate"}`)).toBe(1.5);
    expect(await value(`diffusion_llm_latency_seconds{job="${SEED_JOB}",event_type="diffusion_infill"}`)).toBe(2);
    expect(await value(`diffusion_llm_tokens_total{job="${SEED_JOB}",event_type="diffusion_generate"}`)).toBe(25);
    expect(await value(`diffusion_llm_tokens_total{job="${SEED_JOB}",event_type="diffusion_infill"}`)).toBe(30);
    expect(await value(`diffusion_llm_request_duration_seconds_count{job="${SEED_JOB}",event_type="diffusion_generate"}`)).toBe(10);
    const target = (await prometheus?.targets())?.find((t) => t.scrapePool === SEED_JOB);
    expect(target?.health, target?.lastError).toBe('up');
    expect(target?.scrapeUrl).toBe(`http://127.0.0.1:${core?.server.port}/api/diffusion/metrics/export?format=prometheus`);
    expect(await value(`up{job="${SEED_JOB}"}`)).toBe(1);
  });

  it('negotiated OpenMetrics with Prometheus, which parsed it', async () => {
    const seedScrapes = scrapes.filter(
      (s) => s.url === '/api/diffusion/metrics/export?format=prometheus' && s.accept.startsWith('application/openmetrics-text'),
    );
    expect(seedScrapes.length).toBeGreaterThan(0);
    expect(new Set(seedScrapes.map((s) => s.contentType))).toEqual(new Set(['application/openmetrics-text; version=1.0.0; charset=utf-8']));
    // `up` is 1 only when the whole OpenMetrics body parsed; the samples above came from it.
    expect(await value(`scrape_samples_scraped{job="${SEED_JOB}"}`)).toBeGreaterThan(30);
  });

  it('scrapes text format 0.0.4 when the scraper asks for it', async () => {
    await waitForValue(`diffusion_llm_requests_total{job="${TEXT_JOB}",endpoint="generate"}`, 10);
    await waitForValue(`up{job="${TEXT_JOB}"}`, 1);
    expect(proxy?.contentTypes.length).toBeGreaterThan(0);
    expect(new Set(proxy?.contentTypes)).toEqual(new Set(['text/plain; version=0.0.4; charset=utf-8']));
  });

  it('serves the same numbers on the conventional /metrics path', async () => {
    await waitForValue(`diffusion_llm_requests_total{job="${ALIAS_JOB}",endpoint="generate"}`, 10);
    await waitForValue(`up{job="${ALIAS_JOB}"}`, 1);
  });

  it('a later scrape after more requests shows the counters grew', async () => {
    if (!core) throw new Error('core did not start');
    const before = await value(`diffusion_llm_requests_total{job="${SEED_JOB}",endpoint="generate"}`);
    expect(before).toBe(10);
    await addGenerateRequests(core, 5);
    const varied = recordVariedEvents(core.store, 80);
    const expected = 10 + 5 + (varied.generate ?? 0);
    await waitForValue(`diffusion_llm_requests_total{job="${SEED_JOB}",endpoint="generate"}`, expected);
    expect(await value(`diffusion_llm_requests_total{job="${SEED_JOB}",endpoint="infill/stream"}`)).toBe(varied['infill/stream']);
    expect(await value(`increase(diffusion_llm_requests_total{job="${SEED_JOB}",endpoint="generate"}[1m])`)).toBeGreaterThan(0);
    expect(await value(`sum(diffusion_llm_errors_by_type_total{job="${SEED_JOB}"})`)).toBeGreaterThanOrEqual(16);
  });

  it('every Grafana dashboard query runs on Prometheus and returns a number', async () => {
    if (!core) throw new Error('core did not start');
    // A second round on the same series, so every rate() and histogram_quantile() has an increase to work on.
    const before = (await value(`sum(diffusion_llm_requests_total{job="${SEED_JOB}"})`)) ?? 0;
    recordVariedEvents(core.store, 80);
    await waitForValue(`sum(diffusion_llm_requests_total{job="${SEED_JOB}"})`, before + 80);
    const failures: string[] = [];
    for (const query of dashboardQueries('1m')) {
      try {
        const finite = async (): Promise<true | undefined> =>
          (await prometheus?.query(query.promql))?.some((sample) => Number.isFinite(Number(sample.value[1]))) ? true : undefined;
        await waitFor(`${query.where} to return a finite value`, finite, 15_000, 500);
      } catch (error) {
        failures.push(`${query.where}: ${query.raw}: ${(error as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
