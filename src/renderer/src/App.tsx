import { For, Match, Show, Switch, createSignal, type JSX } from 'solid-js';
import type { StartupProblem, ViewName } from '../../shared/api';
import { describeError } from './api/client';
import { tokenStore } from './api/httpTransport';
import { DashboardIcon, EventsIcon, ExportIcon, LogoMark, PlaygroundIcon, SettingsIcon } from './components/Icons';
import { BackendStatus } from './components/HealthStatus';
import { ErrorNotice } from './components/Notices';
import { formatAgo } from './format';
import { useApp } from './state/appState';
import { DashboardView } from './views/dashboard/DashboardView';
import { EventsView } from './views/events/EventsView';
import { ExportView } from './views/export/ExportView';
import { PlaygroundView } from './views/playground/PlaygroundView';
import { SettingsView } from './views/settings/SettingsView';

const NAV: Array<{ view: ViewName; label: string; icon: () => JSX.Element }> = [
  { view: 'dashboard', label: 'Dashboard', icon: DashboardIcon },
  { view: 'playground', label: 'Playground', icon: PlaygroundIcon },
  { view: 'events', label: 'Events', icon: EventsIcon },
  { view: 'settings', label: 'Settings', icon: SettingsIcon },
  { view: 'export', label: 'Export', icon: ExportIcon },
];

/** The desktop window when the port is taken: say so, and offer another one. */
function PortConflict(props: { problem: StartupProblem }) {
  const app = useApp();
  const [typed, setPort] = createSignal<string | null>(null);
  const port = (): string => typed() ?? String(props.problem.suggestedPort ?? props.problem.port + 1);
  const [error, setError] = createSignal<string | null>(null);
  const [trying, setTrying] = createSignal(false);
  const tryPort = async (value: number): Promise<void> => {
    setTrying(true);
    setError(null);
    const result = await app.api.changePort(value);
    setTrying(false);
    if (result.ok) location.reload();
    else setError(describeError(result.error));
  };
  return (
    <div class="center-screen">
      <div class="panel dialog" data-testid="port-conflict">
        <LogoMark />
        <h2>{props.problem.type === 'port_in_use' ? `Port ${props.problem.port} is already in use` : 'The local server could not start'}</h2>
        <p class="muted">
          {props.problem.message}. Another Diffusion Monitor (or another program) may be listening there. Start on another port — it is saved for next time, and
          clients then use the new address.
        </p>
        <ErrorNotice message={error()} />
        <div class="form-actions">
          <Show when={props.problem.suggestedPort}>
            {(suggested) => (
              <button type="button" class="btn btn-primary" disabled={trying()} onClick={() => void tryPort(suggested())}>
                Use port {suggested()}
              </button>
            )}
          </Show>
          <input class="input mono narrow" inputMode="numeric" value={port()} onInput={(e) => setPort(e.currentTarget.value)} aria-label="Port" />
          <button type="button" class="btn" disabled={trying()} onClick={() => void tryPort(Number(port()))}>
            Try this port
          </button>
        </div>
      </div>
    </div>
  );
}

/** The browser, when the server requires a token this browser does not have yet. */
function TokenPrompt() {
  const [token, setToken] = createSignal('');
  return (
    <div class="center-screen">
      <form
        class="panel dialog"
        onSubmit={(event) => {
          event.preventDefault();
          tokenStore.set(token().trim());
          location.reload();
        }}
      >
        <LogoMark />
        <h2>This server requires an API token</h2>
        <p class="muted">It was started with --token. Enter the same token; it is kept in this tab until you close it.</p>
        <input class="input mono" type="password" autocomplete="off" value={token()} onInput={(e) => setToken(e.currentTarget.value)} aria-label="API token" />
        <div class="form-actions">
          <button type="submit" class="btn btn-primary" disabled={token().trim() === ''}>
            Continue
          </button>
        </div>
      </form>
    </div>
  );
}

export function App() {
  const app = useApp();
  return (
    <Switch
      fallback={
        <div class="layout">
          <nav class="sidebar">
            <div class="brand">
              <LogoMark />
              <div>
                <div class="brand-name">Diffusion Monitor</div>
                <div class="brand-sub">
                  {app.state.info ? `v${app.state.info.version} · ${app.state.info.transport === 'ipc' ? 'desktop' : 'browser'}` : ' '}
                </div>
              </div>
            </div>
            <ul class="nav">
              <For each={NAV}>
                {(item) => (
                  <li>
                    <a
                      href={`#/${item.view}`}
                      classList={{ active: app.view() === item.view }}
                      aria-current={app.view() === item.view ? 'page' : undefined}
                      aria-label={item.label}
                      data-testid={`nav-${item.view}`}
                    >
                      {item.icon()}
                      <span class="nav-label">{item.label}</span>
                    </a>
                  </li>
                )}
              </For>
            </ul>
            <div class="sidebar-foot">
              <div
                class="live"
                classList={{ on: app.state.live.connected && !app.serverDown(), down: app.serverDown() }}
                data-testid="live-indicator"
                title={
                  app.serverDown()
                    ? 'The Diffusion Monitor server is not answering'
                    : app.state.live.connected
                      ? 'Live updates connected'
                      : 'Connecting to live updates'
                }
                tabindex="0"
              >
                <span class="live-dot" aria-hidden="true" />
                <span class="status-text live-label">{app.serverDown() ? 'Server unreachable' : app.state.live.connected ? 'Live' : 'Connecting…'}</span>
                <Show when={app.state.live.lastUpdateAt && !app.serverDown()}>
                  <span class="muted status-text">· {formatAgo(app.state.live.lastUpdateAt ?? 0, app.now())}</span>
                </Show>
              </div>
              <BackendStatus />
              <Show when={app.state.info}>
                {(info) => (
                  <dl class="facts">
                    <dt>Endpoint</dt>
                    <dd class="mono">{info().serverUrl?.replace(/^https?:\/\//, '') ?? 'not running'}</dd>
                    <dt>Backend</dt>
                    <dd class="mono" classList={{ warn: info().backend.url === null }}>
                      {info().backend.url ? `${info().backend.kind} · ${info().backend.url?.replace(/^https?:\/\//, '')}` : 'not configured'}
                    </dd>
                  </dl>
                )}
              </Show>
              <ErrorNotice message={app.state.infoError} />
            </div>
          </nav>
          <main class="content">
            <Switch>
              <Match when={app.view() === 'dashboard'}>
                <DashboardView />
              </Match>
              <Match when={app.view() === 'playground'}>
                <PlaygroundView />
              </Match>
              <Match when={app.view() === 'events'}>
                <EventsView />
              </Match>
              <Match when={app.view() === 'settings'}>
                <SettingsView />
              </Match>
              <Match when={app.view() === 'export'}>
                <ExportView />
              </Match>
            </Switch>
          </main>
        </div>
      }
    >
      <Match when={app.state.needsToken}>
        <TokenPrompt />
      </Match>
      <Match when={app.state.info?.startupProblem}>{(problem) => <PortConflict problem={problem()} />}</Match>
    </Switch>
  );
}
