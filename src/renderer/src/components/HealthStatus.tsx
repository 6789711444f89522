import { Show } from 'solid-js';
import type { BackendHealthReport } from '../../../shared/api';
import { formatAgo, formatClock } from '../format';
import { useApp } from '../state/appState';

/** The backend's state in one word, for the sidebar dot and the banner. */
export type BackendState = 'unknown' | 'up' | 'degraded' | 'down' | 'unconfigured';

export function backendState(backend: BackendHealthReport | null): BackendState {
  if (backend === null) return 'unknown';
  if (!backend.configured) return 'unconfigured';
  if (backend.reachable === false) return 'down';
  if (backend.reachable === true) return backend.last_error === null ? 'up' : 'degraded';
  return 'unknown';
}

const STATE_WORDS: Record<BackendState, string> = {
  unknown: 'Checking backend…',
  up: 'Backend reachable',
  degraded: 'Backend answers with errors',
  down: 'Backend unreachable',
  unconfigured: 'No backend configured',
};

/** "since 09:47:12 UTC (3 min ago)" when the server says since when. */
function sinceText(since: number | null, now: number): string {
  return since === null ? '' : ` since ${formatClock(since)} (${formatAgo(since, now)})`;
}

/** The sidebar's backend line: a coloured dot and what it means, always visible (also when narrow). */
export function BackendStatus() {
  const app = useApp();
  const state = (): BackendState => (app.serverDown() ? 'unknown' : backendState(app.state.backend));
  const models = (): string => {
    const list = app.state.backend?.models ?? [];
    return list.length === 0 ? '' : ` · ${list.length} model${list.length === 1 ? '' : 's'}`;
  };
  return (
    <div class={`backend-status state-${state()}`} data-testid="backend-status" data-state={state()} title={`${STATE_WORDS[state()]}${models()}`} tabindex="0">
      <span class="status-dot" aria-hidden="true" />
      <span class="status-text">
        {app.serverDown() ? 'Backend state unknown' : STATE_WORDS[state()]}
        {state() === 'up' ? models() : ''}
      </span>
    </div>
  );
}

/**
 * The banner on the dashboard and the playground: the monitor server not answering, or the model
 * backend down or failing, with since when and what to do. Nothing while all is well.
 */
export function HealthBanner() {
  const app = useApp();
  const state = (): BackendState => backendState(app.state.backend);
  return (
    <Show
      when={!app.serverDown()}
      fallback={
        <div class="banner banner-bad" role="alert" data-testid="server-banner">
          <strong>The Diffusion Monitor server is not answering{sinceText(app.state.server.since, app.now())}.</strong>
          <span>
            {' '}
            What you see is from before. Start it again (<code>npm run serve</code> or the desktop app); this page reconnects by itself.
          </span>
        </div>
      }
    >
      <Show when={state() === 'down' || state() === 'degraded'}>
        <div class="banner" classList={{ 'banner-bad': state() === 'down', 'banner-warn': state() === 'degraded' }} role="alert" data-testid="health-banner">
          <strong>
            {state() === 'down' ? 'The model backend is unreachable' : 'The model backend answers with errors'}
            {sinceText(app.state.backend?.since ?? null, app.now())}.
          </strong>{' '}
          <span>
            <span class="mono">
              {app.state.backend?.kind} · {app.state.backend?.url}
            </span>
            <Show when={app.state.backend?.last_error}>{(error) => <span> — {error()}</span>}</Show>
            {state() === 'down' ? '. Requests fail with network errors until it is back.' : '.'}
          </span>
          <button type="button" class="btn btn-small" onClick={() => app.navigate('settings')}>
            Check Settings
          </button>
        </div>
      </Show>
    </Show>
  );
}

/** What a view says instead of "nothing here" or a raw load error when the server is gone. */
export function ServerDownNotice() {
  const app = useApp();
  return (
    <Show when={app.serverDown()}>
      <div class="notice notice-error" role="alert" data-testid="server-down">
        <span class="notice-dot" />
        <span class="notice-text">
          Cannot reach the Diffusion Monitor server{sinceText(app.state.server.since, app.now())}; this view shows what it had loaded before, and updates again
          once the server is back.
        </span>
      </div>
    </Show>
  );
}
