import { For, Show, createEffect, createSignal, on, onCleanup } from 'solid-js';
import { createStore } from 'solid-js/store';
import { exportFileName, type ExportOutcome, type ExportProgress, type StreamHandle } from '../../../../shared/api';
import type { ExportKind } from '../../../../shared/apiSchemas';
import type { TimeWindowKey } from '../../../../shared/series';
import { describeError } from '../../api/client';
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
                <h3>{card.title}</h3>
                <span class="panel-hint mono">{exportFileName(card.format, new Date())}</span>
              </header>
              <div class="panel-body">
                <p class="muted">{card.description}</p>
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
                        disabled={state.running !== null}
                        onClick={() => void start(card.format)}
                        data-testid={`export-button-${card.format}`}
                      >
                        Export {card.usesWindow && window() !== 'all' ? `last ${window()}` : card.format === 'prometheus' ? 'all-time' : 'everything'}
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
            <h3>Scrape with Prometheus</h3>
            <span class="panel-hint">prometheus.yml</span>
          </header>
          <div class="panel-body">
            <pre class="code-block">{`scrape_configs:
  - job_name: diffusion-monitor
    scrape_interval: 15s
    static_configs:
      - targets: ['${host()}']`}</pre>
          </div>
        </section>
        <section class="panel">
          <header class="panel-head">
            <h3>Write to InfluxDB</h3>
            <span class="panel-hint">influx CLI v2</span>
          </header>
          <div class="panel-body">
            <pre class="code-block">{`curl -s '${origin()}/api/diffusion/metrics/export?format=influxdb' \\
  | influx write --bucket diffusion --precision ns`}</pre>
          </div>
        </section>
      </div>
    </div>
  );
}
