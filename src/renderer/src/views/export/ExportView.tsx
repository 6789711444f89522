import { For, Show, createEffect, createSignal, on, onCleanup } from 'solid-js';
import { createStore } from 'solid-js/store';
import { exportFileName, type ExportOutcome, type ExportProgress, type StreamHandle } from '../../../../shared/api';
import type { ExportKind } from '../../../../shared/apiSchemas';
import type { TimeWindowKey } from '../../../../shared/series';
import { describeError } from '../../api/client';
import { ServerDownNotice } from '../../components/HealthStatus';
import { ErrorNotice, InfoNotice } from '../../components/Notices';
import { formatBytes, formatCount } from '../../format';
import { useApp } from '../../state/appState';
import { WindowPicker } from '../dashboard/DashboardView';

interface FormatCard {
  format: ExportKind;
  title: string;
  description: string;
  usesWindow: boolean;
}

const CARDS: FormatCard[] = [
  {
    format: 'json',
    title: 'JSON summary',
    description: 'Totals, success rates, latency percentiles, tokens and per-model usage — the same document as /api/diffusion/metrics.',
    usesWindow: true,
  },
  {
    format: 'prometheus',
    title: 'Prometheus',
    description: 'Text format 0.0.4 with counters and latency histograms, exactly what /metrics serves. Always all-time.',
    usesWindow: false,
  },
  { format: 'influxdb', title: 'InfluxDB', description: 'Line protocol with nanosecond timestamps, ready for influx write or Telegraf.', usesWindow: true },
  {
    format: 'csv',
    title: 'CSV of raw events',
    description: 'One row per recorded request with its metadata, for spreadsheets and notebooks. Streams, however large.',
    usesWindow: true,
  },
];

interface ExportState {
  running: ExportKind | null;
  progress: ExportProgress | null;
  outcome: (ExportOutcome & { format: ExportKind }) | null;
  error: string | null;
}

export function ExportView() {
  const app = useApp();
  const [window, setWindow] = createSignal<TimeWindowKey>('all');
  const [state, setState] = createStore<ExportState>({ running: null, progress: null, outcome: null, error: null });
  let handle: StreamHandle<ExportOutcome> | null = null;
  onCleanup(() => handle?.cancel());

  // How many events the window holds, before anything is clicked (Prometheus: all time).
  const [counts, setCounts] = createStore<{ window: number | null; all: number | null }>({ window: null, all: null });
  const loadCounts = async (): Promise<void> => {
    const w = window();
    const [inWindow, all] = await Promise.all([app.api.summary(w), app.api.summary('all')]);
    if (w !== window()) return;
    setCounts({ window: inWindow.ok ? inWindow.value.overall.total_requests : null, all: all.ok ? all.value.overall.total_requests : null });
  };
  createEffect(on([window, () => app.state.live.tick], () => void loadCounts()));
  const countFor = (card: FormatCard): number | null => (card.usesWindow ? counts.window : counts.all);
  /**
   * Nothing to export: no events in the window. Prometheus stays enabled — its families with zero
   * counters are what a scrape config is checked against before any traffic.
   */
  const empty = (card: FormatCard): boolean => card.format !== 'prometheus' && countFor(card) === 0;
  const windowWords = (card: FormatCard): string => (!card.usesWindow || window() === 'all' ? 'stored (all time)' : `in the last ${window()}`);

  const start = async (format: ExportKind): Promise<void> => {
    if (state.running) return;
    setState({ running: format, progress: null, outcome: null, error: null });
    handle = app.api.export({ format, window: window() }, (progress) => setState('progress', progress));
    const result = await handle.result;
    handle = null;
    setState('running', null);
    if (result.ok) {
      if (result.value.saved) setState('outcome', { ...result.value, format });
    } else if (result.error.type !== 'cancelled') {
      setState('error', describeError(result.error));
    }
  };

  // The native menu's "Export …" items land here, once each: a request that arrived before this
  // view mounted runs at mount; then it is consumed, so reopening the view does not run it again.
  createEffect(
    on(app.requestedExport, (request) => {
      if (!request) return;
      app.consumeRequestedExport();
      void start(request.format);
    }),
  );

  const origin = (): string => app.state.info?.serverUrl ?? 'http://127.0.0.1:7000';
  const host = (): string => origin().replace(/^https?:\/\//, '');

  const percent = (): number | null => {
    const p = state.progress;
    return p && p.rows !== null && p.totalRows ? Math.min(100, (p.rows / p.totalRows) * 100) : null;
  };

  return (
    <div class="view" data-testid="export-view">
      <header class="view-head">
        <div>
          <h1>Export</h1>
          <p class="view-sub">
            {app.state.info?.transport === 'ipc' ? 'One click, then choose where to save.' : 'One click downloads the file.'} Prometheus can also scrape{' '}
            <code>{app.state.info?.serverUrl ?? 'http://127.0.0.1:7000'}/metrics</code> directly.
          </p>
        </div>
        <WindowPicker value={window()} onChange={setWindow} />
      </header>

      <ServerDownNotice />
      <ErrorNotice message={state.error} />
      <Show when={state.outcome}>
        {(outcome) => (
          <InfoNotice tone="ok">
            {app.state.info?.transport === 'ipc' ? 'Saved' : 'Downloaded'} <code>{outcome().location}</code> — {formatBytes(outcome().bytes)}
            {outcome().rows !== null ? `, ${formatCount(outcome().rows)} events` : ''}.
          </InfoNotice>
        )}
      </Show>

      <div class="export-grid">
        <For each={CARDS}>
          {(card) => (
            <section class="panel export-card" data-testid={`export-${card.format}`}>
              <header class="panel-head">
                <h2>{card.title}</h2>
                <span class="panel-hint mono" data-testid={`export-name-${card.format}`}>
                  {exportFileName(card.format, new Date(app.now() * 1000), window())}
                </span>
              </header>
              <div class="panel-body">
                <p class="muted">{card.description}</p>
                <p class="export-count" data-testid={`export-count-${card.format}`}>
                  {countFor(card) === null
                    ? 'Counting events…'
                    : `${formatCount(countFor(card))} event${countFor(card) === 1 ? '' : 's'} ${windowWords(card)}.`}
                </p>
                <Show when={state.running === card.format}>
                  <div class="progress">
                    <div class="progress-bar running" classList={{ indeterminate: percent() === null }} style={{ width: `${percent() ?? 100}%` }} />
                  </div>
                  <p class="muted small">
                    {state.progress
                      ? `${formatBytes(state.progress.bytes)}${state.progress.rows !== null ? ` · ${formatCount(state.progress.rows)} of ${formatCount(state.progress.totalRows)} events` : ''}`
                      : 'Preparing…'}
                  </p>
                </Show>
                <div class="form-actions">
                  <Show
                    when={state.running === card.format}
                    fallback={
                      <button
                        type="button"
                        class="btn btn-primary"
                        disabled={state.running !== null || empty(card) || app.serverDown()}
                        title={empty(card) ? 'Nothing recorded in this window yet' : undefined}
                        onClick={() => void start(card.format)}
                        data-testid={`export-button-${card.format}`}
                      >
                        {empty(card)
                          ? 'Nothing to export'
                          : `Export ${card.usesWindow && window() !== 'all' ? `last ${window()}` : card.format === 'prometheus' ? 'all-time' : 'everything'}`}
                      </button>
                    }
                  >
                    <button type="button" class="btn btn-danger" onClick={() => handle?.cancel()}>
                      Cancel
                    </button>
                  </Show>
                </div>
              </div>
            </section>
          )}
        </For>
      </div>

      <div class="export-grid">
        <section class="panel">
          <header class="panel-head">
            <h2>Scrape with Prometheus</h2>
            <span class="panel-hint">prometheus.yml</span>
          </header>
          <div class="panel-body">
            <pre class="code-block" data-testid="prometheus-snippet">{`scrape_configs:
  - job_name: "reynard-diffusion-llm"
    static_configs:
      - targets: ["${host()}"]
    metrics_path: "/api/diffusion/metrics/export"
    params:
      format: ["prometheus"]`}</pre>
            <p class="muted small">
              Or scrape <code>{origin()}/metrics</code>, the same numbers at the conventional path.
            </p>
          </div>
        </section>
        <section class="panel">
          <header class="panel-head">
            <h2>Write to InfluxDB</h2>
            <span class="panel-hint">1.x first, then 2.x — as in the README</span>
          </header>
          <div class="panel-body">
            <p class="muted small">InfluxDB 1.x (Debian's influxdb):</p>
            <pre class="code-block" data-testid="influx-v1">{`influx -execute 'CREATE DATABASE reynard'
curl -s "${origin()}/api/diffusion/metrics/export?format=influxdb" | \\
  curl -i -XPOST "http://localhost:8086/write?db=reynard" --data-binary @-`}</pre>
            <p class="muted small">InfluxDB 2.x:</p>
            <pre class="code-block" data-testid="influx-v2">{`curl -s "${origin()}/api/diffusion/metrics/export?format=influxdb" | \\
  curl -i -XPOST "http://localhost:8086/api/v2/write?org=my-org&bucket=reynard&precision=ns" \\
  -H "Authorization: Token $INFLUX_TOKEN" --data-binary @-`}</pre>
            <p class="muted small">
              Or let the server push on a schedule: <code>npm run serve -- --influx-url http://127.0.0.1:8086 --influx-db reynard</code>.
            </p>
          </div>
        </section>
      </div>
    </div>
  );
}
