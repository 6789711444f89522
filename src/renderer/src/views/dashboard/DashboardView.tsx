import { For, Show, createMemo, createSignal } from 'solid-js';
import { TIME_WINDOWS, type MetricsSeries, type TimeWindowKey } from '../../../../shared/series';
import type { MetricsSummary } from '../../../../shared/summary';
import { BreakdownChart } from '../../components/charts/BreakdownChart';
import { CATEGORY_COLORS, COLORS } from '../../components/charts/chartSetup';
import { TimeSeriesChart, type SeriesLine } from '../../components/charts/TimeSeriesChart';
import { HealthBanner } from '../../components/HealthStatus';
import { EmptyState, ErrorNotice, InfoNotice } from '../../components/Notices';
import { Panel } from '../../components/Panel';
import { Sparkline } from '../../components/Sparkline';
import {
  endpointLabel,
  formatAgo,
  formatBucketTime,
  formatCount,
  formatPercent,
  formatRate,
  formatSeconds,
  modelLabel,
  successRateClasses,
  successRateTone,
  timeZoneName,
} from '../../format';
import { SAMPLE_RUN } from '../../sampleRun';
import { useApp } from '../../state/appState';
import { ApiBreakdown } from './ApiBreakdown';
import { RecentEvents } from './RecentEvents';
import { createDashboardData } from './dashboardData';
import { requestRate } from './requestRate';

const WINDOW_LABELS: Record<TimeWindowKey, string> = { '15m': '15 min', '1h': '1 hour', '24h': '24 hours', all: 'All' };

export function WindowPicker(props: { value: TimeWindowKey; onChange: (value: TimeWindowKey) => void }) {
  return (
    <div class="segmented" role="radiogroup" aria-label="Time window">
      <For each={TIME_WINDOWS}>
        {(key) => (
          <button type="button" role="radio" aria-checked={props.value === key} classList={{ active: props.value === key }} onClick={() => props.onChange(key)}>
            {WINDOW_LABELS[key]}
          </button>
        )}
      </For>
    </div>
  );
}

function Tile(props: { label: string; value: string; sub: string; tone?: 'ok' | 'warn' | 'bad'; trend?: Array<number | null>; color: string; testId: string }) {
  return (
    <div class="tile" classList={{ [`tone-${props.tone ?? 'none'}`]: true }} data-testid={props.testId}>
      <div class="tile-label">{props.label}</div>
      <div class="tile-value">{props.value}</div>
      <div class="tile-sub">{props.sub}</div>
      <Show when={props.trend}>{(trend) => <Sparkline values={trend()} color={props.color} />}</Show>
    </div>
  );
}

function successTone(summary: MetricsSummary): 'ok' | 'warn' | 'bad' | undefined {
  if (summary.overall.total_requests === 0) return undefined;
  return successRateTone(summary.overall.success_rate);
}

export function DashboardView() {
  const app = useApp();
  const data = createDashboardData(
    app.api,
    () => app.state.window,
    () => app.state.live.tick,
  );

  const labels = createMemo(() => {
    const s = data.series();
    if (!s) return [];
    const span = s.t.length * s.bucketSeconds;
    return s.t.map((t) => formatBucketTime(t, s.bucketSeconds, span));
  });

  const bucketHint = createMemo(() => {
    const s = data.series();
    if (!s) return '';
    const minutes = s.bucketSeconds / 60;
    return minutes < 60 ? `per ${minutes} min` : minutes < 1440 ? `per ${minutes / 60} h` : `per ${minutes / 1440} d`;
  });
  const perBucket = (what: string): string => `${what} ${bucketHint()}`.trim();
  const xTitle = `local time (${timeZoneName()})`;
  const hasLatency = (): boolean => (data.summary()?.overall.latency.count ?? 0) > 0;

  const requestLines = createMemo((): SeriesLine[] => {
    const s = data.series();
    if (!s) return [];
    return [
      { label: 'Succeeded', data: s.requests.map((r, i) => r - (s.errors[i] ?? 0)), color: COLORS.blue, kind: 'bar', stack: 'requests' },
      { label: 'Failed', data: s.errors, color: COLORS.rose, kind: 'bar', stack: 'requests' },
    ];
  });

  const latencyLines = createMemo((): SeriesLine[] => {
    const s = data.series();
    if (!s) return [];
    return [
      { label: 'p50', data: s.latency.p50, color: COLORS.teal, fill: true },
      { label: 'p95', data: s.latency.p95, color: COLORS.blue },
      { label: 'p99', data: s.latency.p99, color: COLORS.violet, dashed: true },
    ];
  });

  const throughputLines = createMemo((): SeriesLine[] => {
    const s = data.series();
    if (!s) return [];
    return [{ label: 'tokens/s', data: s.tokensPerSecond, color: COLORS.amber, fill: true }];
  });

  const ttfsLines = createMemo((): SeriesLine[] => {
    const s = data.series();
    if (!s) return [];
    return [
      { label: 'p50', data: s.timeToFirstStep.p50, color: COLORS.green, fill: true },
      { label: 'p95', data: s.timeToFirstStep.p95, color: COLORS.sky },
    ];
  });

  const endpointLines = createMemo((): SeriesLine[] => {
    const s = data.series();
    if (!s) return [];
    return Object.entries(s.requestsByEndpoint).map(([endpoint, values], i) => ({
      label: endpoint,
      data: values,
      color: CATEGORY_COLORS[i % CATEGORY_COLORS.length] as string,
      kind: 'bar' as const,
      stack: 'endpoints',
    }));
  });

  const models = createMemo(() =>
    Object.entries(data.summary()?.models ?? {})
      .map(([label, stats]) => ({ label: modelLabel(label), value: stats.requests, secondary: stats.errors }))
      .sort((a, b) => b.value - a.value)
      .slice(0, 8),
  );

  const errorTypes = createMemo(() =>
    Object.entries(data.summary()?.errors_by_type ?? {})
      .map(([label, value]) => ({ label, value: value ?? 0 }))
      .filter((item) => item.value > 0)
      .sort((a, b) => b.value - a.value),
  );

  const eventTypes = createMemo(() => Object.entries(data.summary()?.event_types ?? {}).sort((a, b) => b[1].requests - a[1].requests));

  const backendMissing = () => app.state.info?.backend.kind === 'none';
  const builtin = () => app.state.info?.backend.kind === 'builtin';
  const [sample, setSample] = createSignal<string | null>(null);
  /** One request to the built-in model through the local endpoint; it lands on this dashboard like any other. */
  const runSample = async (): Promise<void> => {
    setSample('running a sample on the built-in model…');
    const result = await app.api.run(SAMPLE_RUN, () => undefined).result;
    setSample(
      result.ok
        ? `Sample answered in ${formatSeconds(result.value.duration)}: ${JSON.stringify(result.value.text.slice(0, 80))}`
        : `Sample failed: ${result.error.message}`,
    );
  };

  return (
    <div class="view" data-testid="dashboard-view">
      <header class="view-head">
        <div>
          <h1>Dashboard</h1>
          <p class="view-sub">
            Every request through <code>/api/diffusion</code>, live.
            <Show when={data.updatedAt()}>{(at) => <span class="muted"> Updated {formatAgo(at(), app.now())}.</span>}</Show>
          </p>
        </div>
        <WindowPicker value={app.state.window} onChange={(w) => app.setWindow(w)} />
      </header>

      <Show when={backendMissing()}>
        <InfoNotice
          tone="warn"
          action={
            <button type="button" class="btn btn-small" onClick={() => app.navigate('settings')}>
              Open Settings
            </button>
          }
        >
          No backend (started with <code>--backend none</code>) — requests answer <code>model_unavailable</code> until you point Diffusion Monitor at your model
          runtime or turn the built-in model back on.
        </InfoNotice>
      </Show>
      <HealthBanner />
      {/* The banner above says when the server is gone; a load error then adds nothing. */}
      <Show when={!app.serverDown()}>
        <ErrorNotice message={data.error() === null ? null : `Could not load the numbers: ${data.error()}`} />
      </Show>
      <Show when={data.loading() && !data.summary() && !app.serverDown()}>
        <p class="muted" data-testid="dashboard-loading">
          Loading the numbers…
        </p>
      </Show>

      <Show when={data.allTimeRequests() === 0 && !app.serverDown()}>
        <EmptyState
          title="No requests recorded yet"
          actions={
            <>
              <Show when={builtin()}>
                <button
                  type="button"
                  class="btn btn-primary"
                  data-testid="sample-run"
                  disabled={sample()?.endsWith('…') === true}
                  onClick={() => void runSample()}
                >
                  Run a sample on the built-in model
                </button>
              </Show>
              <button type="button" class="btn" classList={{ 'btn-primary': !builtin() }} onClick={() => app.navigate('playground')}>
                Try the Playground
              </button>
              <button type="button" class="btn" onClick={() => app.navigate('settings')}>
                Configure the backend
              </button>
            </>
          }
        >
          <p>Send a request to the local endpoint and it appears here within a second:</p>
          <pre class="code-block">{`curl -s ${app.state.info?.serverUrl ?? 'http://127.0.0.1:7000'}/api/diffusion/generate \\
  -H 'Content-Type: application/json' \\
  -d '{"prompt": "Write a haiku about denoising"}'`}</pre>
          <Show when={sample()}>
            {(message) => (
              <p class="muted" data-testid="sample-status">
                {message()}
              </p>
            )}
          </Show>
        </EmptyState>
      </Show>

      <Show when={data.summary()}>
        {(summary) => (
          <div class="tiles">
            <Tile
              testId="kpi-requests"
              label="Requests"
              value={formatCount(summary().overall.total_requests)}
              sub={data.series() ? requestRate(data.series() as MetricsSeries) : ''}
              trend={data.series()?.requests}
              color={COLORS.blue}
            />
            <Tile
              testId="kpi-success"
              label="Success rate"
              value={summary().overall.total_requests === 0 ? '—' : formatPercent(summary().overall.success_rate)}
              sub={`${formatCount(summary().overall.total_requests - summary().overall.total_errors)} succeeded`}
              tone={successTone(summary())}
              trend={data.series()?.requests.map((r, i) => (r > 0 ? ((r - (data.series()?.errors[i] ?? 0)) / r) * 100 : null))}
              color={COLORS.green}
            />
            <Tile
              testId="kpi-p50"
              label="Latency p50"
              value={formatSeconds(hasLatency() ? summary().overall.latency.p50 : null)}
              sub={
                hasLatency()
                  ? `avg ${formatSeconds(summary().overall.latency.average)} · ${formatCount(summary().overall.latency.count)} succeeded`
                  : 'no successful request'
              }
              trend={data.series()?.latency.p50}
              color={COLORS.teal}
            />
            <Tile
              testId="kpi-p95"
              label="Latency p95"
              value={formatSeconds(hasLatency() ? summary().overall.latency.p95 : null)}
              sub={`p99 ${formatSeconds(hasLatency() ? summary().overall.latency.p99 : null)} · successful only`}
              trend={data.series()?.latency.p95}
              color={COLORS.violet}
            />
            <Tile
              testId="kpi-tps"
              label="Tokens / s"
              value={formatRate(summary().overall.total_requests ? summary().overall.tokens_per_second : null)}
              sub={`${formatCount(summary().overall.total_tokens)} tokens`}
              trend={data.series()?.tokensPerSecond}
              color={COLORS.amber}
            />
            <Tile
              testId="kpi-errors"
              label="Errors"
              value={formatCount(summary().overall.total_errors)}
              sub={errorTypes()[0] ? `mostly ${errorTypes()[0]?.label}` : 'none'}
              tone={summary().overall.total_errors > 0 ? 'bad' : undefined}
              trend={data.series()?.errors}
              color={COLORS.rose}
            />
          </div>
        )}
      </Show>

      <div class="grid">
        <Panel title="Requests" hint={bucketHint()} span={6} testId="chart-requests">
          <TimeSeriesChart
            label="Requests and errors over time"
            labels={labels()}
            lines={requestLines()}
            format={(v) => formatCount(v)}
            integer
            yTitle={perBucket('requests')}
            xTitle={xTitle}
          />
        </Panel>
        <Panel title="Latency" hint="p50 · p95 · p99 of successful requests" span={6} testId="chart-latency">
          <TimeSeriesChart
            label="Latency percentiles of successful requests over time"
            labels={labels()}
            lines={latencyLines()}
            format={(v) => formatSeconds(v)}
            yTitle="latency"
            xTitle={xTitle}
          />
        </Panel>
        <Panel title="Throughput" hint="tokens/s of successful requests" span={4} testId="chart-throughput">
          <TimeSeriesChart
            label="Tokens per second over time"
            labels={labels()}
            lines={throughputLines()}
            format={(v) => formatRate(v)}
            legend={false}
            yTitle="tokens / s"
            xTitle={xTitle}
          />
        </Panel>
        <Panel title="Time to first step" hint="first step or delta" span={4} testId="chart-ttfs">
          <TimeSeriesChart
            label="Time to first step over time"
            labels={labels()}
            lines={ttfsLines()}
            format={(v) => formatSeconds(v)}
            yTitle="time to first step"
            xTitle={xTitle}
          />
        </Panel>
        <Panel title="Error types" hint="in this window" span={4} testId="chart-errors">
          <Show when={errorTypes().length > 0} fallback={<p class="panel-empty ok">No errors in this window.</p>}>
            <BreakdownChart kind="doughnut" label="Errors by type" items={errorTypes()} valueLabel="errors" format={(v) => formatCount(v)} />
          </Show>
        </Panel>
        <Panel title="Requests by endpoint" hint={bucketHint()} span={6} testId="chart-endpoints">
          <TimeSeriesChart
            label="Requests by endpoint over time"
            labels={labels()}
            lines={endpointLines()}
            format={(v) => formatCount(v)}
            integer
            yTitle={perBucket('requests')}
            xTitle={xTitle}
          />
        </Panel>
        <Panel title="Models" hint="requests · errors" span={6} testId="chart-models">
          <Show when={models().length > 0} fallback={<p class="panel-empty">No model has answered in this window.</p>}>
            <BreakdownChart
              kind="bar"
              label="Requests per model"
              items={models()}
              valueLabel="ok"
              secondaryLabel="errors"
              format={(v) => formatCount(v)}
              valueTitle="requests"
            />
          </Show>
        </Panel>
        <ApiBreakdown apis={data.summary()?.apis} />
        <Panel title="Endpoints" hint="latency and tokens/s of successful requests; counts include failures" span={12} testId="endpoint-table">
          <Show when={eventTypes().length > 0} fallback={<p class="panel-empty">No requests in this window.</p>}>
            <div class="table-scroll">
              <table class="table compact">
                <thead>
                  <tr>
                    <th>Endpoint</th>
                    <th class="num">Requests</th>
                    <th class="num">Success</th>
                    <th class="num">p50</th>
                    <th class="num">p95</th>
                    <th class="num">p99</th>
                    <th class="num">TTFS p50</th>
                    <th class="num">Tokens</th>
                    <th class="num">Tokens/s</th>
                  </tr>
                </thead>
                <tbody>
                  <For each={eventTypes()}>
                    {([eventType, stats]) => (
                      <tr>
                        <td>
                          <span class="endpoint-chip">{endpointLabel(eventType)}</span>
                        </td>
                        <td class="num">{formatCount(stats.requests)}</td>
                        <td class="num" classList={successRateClasses(stats.success_rate)}>
                          {formatPercent(stats.success_rate)}
                        </td>
                        <td class="num">{stats.latency.count > 0 ? formatSeconds(stats.latency.p50) : '—'}</td>
                        <td class="num">{stats.latency.count > 0 ? formatSeconds(stats.latency.p95) : '—'}</td>
                        <td class="num">{stats.latency.count > 0 ? formatSeconds(stats.latency.p99) : '—'}</td>
                        <td class="num">{stats.time_to_first_step.count > 0 ? formatSeconds(stats.time_to_first_step.p50) : '—'}</td>
                        <td class="num">{formatCount(stats.tokens)}</td>
                        <td class="num">{formatRate(stats.tokens_per_second)}</td>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
            </div>
          </Show>
        </Panel>
        <Panel title="Latest requests" hint="pushed as they are recorded" span={12} testId="recent-events">
          <RecentEvents events={data.summary()?.recent_events ?? []} now={app.now()} />
        </Panel>
      </div>
    </div>
  );
}
