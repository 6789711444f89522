import { describe, expect, it } from 'vitest';
import { floatField, nanoseconds, renderInflux, tagValue } from '../../../src/main/export/influx';
import { renderPrometheus } from '../../../src/main/export/prometheus';
import { sampleFromRow } from '../../../src/main/metrics/eventSample';
import { MetricsAggregates } from '../../../src/main/metrics/metricsAggregates';
import { seedExampleRows, type SeedRow } from '../../fixtures/seedDatabase';

function cellsOf(rows: SeedRow[]) {
  const aggregates = new MetricsAggregates();
  for (const row of rows) aggregates.add(sampleFromRow({ ...row, metadata: JSON.stringify(row.metadata) }), row.timestamp);
  return aggregates.allTimeCells();
}

/** The seed documentation's Prometheus example, verbatim. */
const SEED_PROMETHEUS = `# HELP diffusion_llm_requests_total Total number of requests
# TYPE diffusion_llm_requests_total counter
diffusion_llm_requests_total{endpoint="generate"} 10
diffusion_llm_requests_total{endpoint="infill"} 5

# HELP diffusion_llm_errors_total Total number of errors
# TYPE diffusion_llm_errors_total counter
diffusion_llm_errors_total{endpoint="generate"} 2
diffusion_llm_errors_total{endpoint="infill"} 1

# HELP diffusion_llm_latency_seconds Average latency in seconds
# TYPE diffusion_llm_latency_seconds gauge
diffusion_llm_latency_seconds{event_type="diffusion_generate"} 1.5
diffusion_llm_latency_seconds{event_type="diffusion_infill"} 2.0

# HELP diffusion_llm_tokens_total Total tokens generated
# TYPE diffusion_llm_tokens_total counter
diffusion_llm_tokens_total{event_type="diffusion_generate"} 25
diffusion_llm_tokens_total{event_type="diffusion_infill"} 30`;

/** The seed documentation's InfluxDB example, verbatim (timestamp 1234567890 s). */
const SEED_INFLUX = `diffusion_llm,type=requests,endpoint=generate count=10 1234567890000000000
diffusion_llm,type=requests,endpoint=infill count=5 1234567890000000000
diffusion_llm,type=latency,event_type=diffusion_generate value=1.5 1234567890000000000
diffusion_llm,type=latency,event_type=diffusion_infill value=2.0 1234567890000000000
diffusion_llm,type=tokens,event_type=diffusion_generate count=25 1234567890000000000
diffusion_llm,type=tokens,event_type=diffusion_infill count=30 1234567890000000000`;

/** A sample line's name+labels and numeric value; `2.0` and `2` are the same sample to Prometheus. */
function parseSample(line: string): [string, number] {
  const at = line.lastIndexOf(' ');
  return [line.slice(0, at), Number(line.slice(at + 1))];
}

describe('Prometheus export reproduces the seed example', () => {
  it('has every HELP, TYPE and sample line of the seed, in the seed order', async () => {
    const text = await renderPrometheus(cellsOf(seedExampleRows()));
    const lines = text.split('\n');
    let cursor = -1;
    for (const seedLine of SEED_PROMETHEUS.split('\n').filter(Boolean)) {
      const index = seedLine.startsWith('#')
        ? lines.indexOf(seedLine)
        : lines.findIndex(
            (l) => !l.startsWith('#') && l.includes(' ') && parseSample(l)[0] === parseSample(seedLine)[0] && parseSample(l)[1] === parseSample(seedLine)[1],
          );
      expect(index, `seed line missing: ${seedLine}`).toBeGreaterThan(-1);
      expect(index, `seed line out of order: ${seedLine}`).toBeGreaterThan(cursor);
      cursor = index;
    }
  });

  it('separates families by a blank line as the seed does', async () => {
    const text = await renderPrometheus(cellsOf(seedExampleRows()));
    expect(text).toContain('diffusion_llm_requests_total{endpoint="infill/stream"} 0\n\n# HELP diffusion_llm_errors_total');
  });

  it('adds latency histograms whose counts agree with the requests', async () => {
    const text = await renderPrometheus(cellsOf(seedExampleRows()));
    expect(text).toContain('# TYPE diffusion_llm_request_duration_seconds histogram');
    expect(text).toContain('diffusion_llm_request_duration_seconds_bucket{event_type="diffusion_generate",model="dream-v0-instruct-7b",le="1.28"} 0');
    expect(text).toContain('diffusion_llm_request_duration_seconds_bucket{event_type="diffusion_generate",model="dream-v0-instruct-7b",le="2.56"} 10');
    expect(text).toContain('diffusion_llm_request_duration_seconds_bucket{event_type="diffusion_infill",model="dreamon-v0-7b",le="+Inf"} 5');
    expect(text).toContain('diffusion_llm_request_duration_seconds_count{event_type="diffusion_generate",model="dream-v0-instruct-7b"} 10');
    expect(text).toContain('diffusion_llm_request_duration_seconds_sum{event_type="diffusion_infill",model="dreamon-v0-7b"} 10');
  });

  it('speaks OpenMetrics when asked', async () => {
    const text = await renderPrometheus(cellsOf(seedExampleRows()), { openMetrics: true });
    expect(text).toContain('# TYPE diffusion_llm_requests counter');
    expect(text).toContain('diffusion_llm_requests_total{endpoint="generate"} 10');
    expect(text.endsWith('# EOF\n')).toBe(true);
  });
});

describe('hostile label values', () => {
  const hostile = 'evil"} 1\ninjected_metric{a="b\\c, d=e f';
  const rows = seedExampleRows().map((row) => ({ ...row, model_id: hostile }));

  it('cannot inject a Prometheus line', async () => {
    const text = await renderPrometheus(cellsOf(rows));
    expect(text.split('\n').some((line) => line.startsWith('injected_metric'))).toBe(false);
    expect(text).toContain('model="evil\\"} 1\\ninjected_metric{a=\\"b\\\\c, d=e f"');
  });

  it('cannot inject an InfluxDB line or tag', () => {
    const text = renderInflux(cellsOf(rows), 1_234_567_890);
    const lines = text.trim().split('\n');
    expect(lines.every((line) => line.startsWith('diffusion_llm,'))).toBe(true);
    const modelLine = lines.find((line) => line.startsWith('diffusion_llm,type=model,'));
    expect(modelLine).toBe(
      'diffusion_llm,type=model,model=evil"}\\ 1\\ injected_metric{a\\="b\\c\\,\\ d\\=e\\ f requests=15,errors=3,tokens=55,latency=1.6666666666666667 1234567890000000000',
    );
  });

  it('drops a trailing backslash, which the line protocol cannot carry (it would swallow the separator)', () => {
    const text = renderInflux(cellsOf(seedExampleRows().map((row) => ({ ...row, model_id: 'ends-with\\' }))), 1);
    expect(text).toContain('model=ends-with requests=');
  });

  it('keeps inner backslashes single and turns control characters into spaces (line protocol reference)', () => {
    expect(tagValue('inner\\slash')).toBe('inner\\slash');
    expect(tagValue('tab\there')).toBe('tab\\ here');
    expect(tagValue('odd\\,comma')).toBe('odd\\,comma');
    expect(tagValue('even\\\\,comma')).toBe('even\\\\\\,comma');
    expect(tagValue('')).toBe('\\ ');
  });
});

describe('InfluxDB export reproduces the seed example', () => {
  it('has the seed lines, line for line, first and in order', () => {
    const text = renderInflux(cellsOf(seedExampleRows()), 1_234_567_890);
    expect(text.split('\n').slice(0, 6).join('\n')).toBe(SEED_INFLUX);
  });

  it('adds errors, percentiles and per-model lines after them', () => {
    const text = renderInflux(cellsOf(seedExampleRows()), 1_234_567_890);
    expect(text).toContain('diffusion_llm,type=errors,endpoint=generate count=2 1234567890000000000');
    expect(text).toContain('diffusion_llm,type=error_types,error_type=timeout count=2 1234567890000000000');
    expect(text).toMatch(/diffusion_llm,type=latency_percentiles,event_type=diffusion_infill,endpoint=infill p50=2\.0,p95=2\.0,p99=2\.0 /);
  });

  it('formats floats like the seed and timestamps as exact nanoseconds', () => {
    expect(floatField(2)).toBe('2.0');
    expect(floatField(1.5)).toBe('1.5');
    expect(nanoseconds(1_234_567_890)).toBe('1234567890000000000');
    expect(nanoseconds(1_700_000_000.123456)).toBe('1700000000123456000');
  });
});
