import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InFlightRequests } from '../../src/main/metrics/inFlightRequests';
import { MetricsStore } from '../../src/main/metrics/metricsStore';
import { prefersOpenMetrics, renderExport } from '../../src/main/export/exportFormats';
import { hasCommand } from '../fixtures/monitoring/programs';
import { recordVariedEvents } from '../fixtures/monitoring/variedEvents';
import { tempDir } from '../fixtures/tempDir';
import { seedExampleRows, writeSeedDatabase } from '../fixtures/seedDatabase';
import { resolveConfig } from '../../src/main/config';
import { startCore } from '../../src/main/core';
import { silentLogger } from '../../src/shared/logger';

/** What Prometheus 2.x sends when scraping: OpenMetrics preferred, text 0.0.4 as fallback. */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

// The integration suite runs where Prometheus is installed (.ci/run installs it): a missing
// promtool is a failure here, never a silent skip.
if (!hasCommand('promtool')) throw new Error('the integration suite needs promtool: apt-get install -y prometheus');

function run(args: string[], input?: string): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { input, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/**
 * `promtool check metrics` lints the text format 0.0.4 only: fed OpenMetrics it reads every
 * counter's `# TYPE x counter` + `x_total` samples as a family without help. OpenMetrics therefore
 * goes through promtool's OpenMetrics parser (`tsdb create-blocks-from openmetrics`, which needs a
 * timestamp on each sample, so one is appended — a legal OpenMetrics form).
 */
function checkOpenMetrics(body: string): { status: number | null; output: string } {
  const now = Math.floor(Date.now() / 1000);
  const stamped = body
    .split('\n')
    .map((line) => (line === '' || line.startsWith('#') ? line : `${line} ${now}`))
    .join('\n');
  const dir = tempDir('promtool-om-');
  try {
    const input = dir.file('metrics.om');
    writeFileSync(input, stamped);
    return run(['tsdb', 'create-blocks-from', 'openmetrics', input, dir.file('blocks')]);
  } finally {
    dir.cleanup();
  }
}

async function renderedBodies(): Promise<{ text: string; openMetrics: string }> {
  const dir = tempDir();
  const path = dir.file('metrics.db');
  writeSeedDatabase(path);
  const store = MetricsStore.open({ path });
  try {
    recordVariedEvents(store, 120);
    store.record({
      endpoint: 'generate',
      modelId: 'weird "model"\\\nname,with=chars',
      userId: 'u',
      startedAt: store.now(),
      duration: 0.2,
      requestId: 'x',
      status: 200,
      params: {},
      outputText: 'abc',
      steps: 3,
    });
    const inFlight = new InFlightRequests();
    inFlight.start('generate/stream');
    expect(prefersOpenMetrics(PROMETHEUS_ACCEPT)).toBe(true);
    const text = await renderExport(store, 'prometheus', { openMetrics: prefersOpenMetrics('text/plain;version=0.0.4'), inFlight: inFlight.snapshot() });
    const om = await renderExport(store, 'prometheus', { openMetrics: prefersOpenMetrics(PROMETHEUS_ACCEPT), inFlight: inFlight.snapshot() });
    expect(text.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(om.contentType).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    return { text: text.body, openMetrics: om.body };
  } finally {
    store.close();
    dir.cleanup();
  }
}

describe('promtool accepts both exposition formats', () => {
  it('text 0.0.4 passes `promtool check metrics` with no lint findings', async () => {
    const { text } = await renderedBodies();
    const result = run(['check', 'metrics'], text);
    expect(result.output.trim(), result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it('OpenMetrics 1.0 passes promtool’s OpenMetrics parser', async () => {
    const { openMetrics } = await renderedBodies();
    const result = checkOpenMetrics(openMetrics);
    expect(result.status, result.output).toBe(0);
  });

  it('the checks can fail: a counter without _total and an OpenMetrics body without # EOF are refused', async () => {
    const bad = run(['check', 'metrics'], '# HELP requests Requests.\n# TYPE requests counter\nrequests 1\n');
    expect(bad.status).not.toBe(0);
    const { openMetrics } = await renderedBodies();
    expect(checkOpenMetrics(openMetrics.replace('# EOF', '')).status).not.toBe(0);
  });
});

describe('the served export', () => {
  it('passes promtool check metrics as the server sends it', async () => {
    const dir = tempDir();
    const dbPath = dir.file('seed.db');
    writeSeedDatabase(dbPath, seedExampleRows(Date.now() / 1000 - 120));
    const core = await startCore(resolveConfig({ argv: ['--port', '0', '--db', dbPath], env: {}, cwd: dir.path }), { log: silentLogger });
    try {
      const text = await (await fetch(`${core.server.url}/api/diffusion/metrics/export?format=prometheus`)).text();
      const checked = run(['check', 'metrics'], text);
      expect(checked.output).toBe('');
      expect(checked.status).toBe(0);
    } finally {
      await core.stop();
      dir.cleanup();
    }
  });
});
