import { createContext, createSignal, onCleanup, onMount, useContext, type Accessor, type JSX } from 'solid-js';
import { createStore } from 'solid-js/store';
import { VIEWS, type AppInfo, type BackendHealthReport, type DiffusionMonitorApi, type ViewName } from '../../../shared/api';
import type { ExportKind } from '../../../shared/apiSchemas';
import type { PerformanceEvent } from '../../../shared/events';
import { TIME_WINDOWS, type TimeWindowKey } from '../../../shared/series';
import { describeError } from '../api/client';

export interface AppState {
  window: TimeWindowKey;
  info: AppInfo | null;
  infoError: string | null;
  live: {
    connected: boolean;
    /** Increments on every pushed update; views refetch when it changes. */
    tick: number;
    lastUpdateAt: number | null;
    /** The newest recorded events, newest first, as pushed. */
    recent: PerformanceEvent[];
  };
  needsToken: boolean;
  /**
   * Whether the Diffusion Monitor server itself answers (`null` before the first health check).
   * Distinct from the model backend: a dead server explains every view's missing data.
   */
  server: { reachable: boolean | null; since: number | null; message: string | null };
  /** The model backend, from `/api/diffusion/health`; `null` until the first answer. */
  backend: BackendHealthReport | null;
}

/** How often the health of the server and the backend is checked; faster while something is down. */
const HEALTH_POLL_MS = 4000;
const HEALTH_POLL_DOWN_MS = 1500;

export interface AppContextValue {
  api: DiffusionMonitorApi;
  state: AppState;
  view: Accessor<ViewName>;
  navigate(view: ViewName): void;
  setWindow(window: TimeWindowKey): void;
  refreshInfo(): Promise<void>;
  /** Unix seconds, ticking once a second (for "updated 5 s ago"). */
  now: Accessor<number>;
  /** An export the native menu asked for, consumed by the Export view. */
  requestedExport: Accessor<{ format: ExportKind; at: number } | null>;
  /** Marks the requested export as handled, so reopening the Export view does not run it again. */
  consumeRequestedExport(): void;
  setLiveConnected(connected: boolean): void;
  setNeedsToken(needs: boolean): void;
  /** Re-checks health now (after a failed call, or when the live feed drops). */
  checkHealth(): void;
  /** `true` while the Diffusion Monitor server does not answer: views say so instead of "empty". */
  serverDown(): boolean;
}

const AppContext = createContext<AppContextValue>();

const WINDOW_KEY = 'diffusion-monitor.window';

function viewFromHash(): ViewName {
  const name = location.hash.replace(/^#\/?/, '');
  return (VIEWS as readonly string[]).includes(name) ? (name as ViewName) : 'dashboard';
}

function storedWindow(): TimeWindowKey {
  const stored = localStorage.getItem(WINDOW_KEY);
  return (TIME_WINDOWS as readonly string[]).includes(stored ?? '') ? (stored as TimeWindowKey) : '1h';
}

/** The app's shared state: the API object, the view, the time window and the live feed. */
export function AppProvider(props: { api: DiffusionMonitorApi; children: JSX.Element }) {
  const [state, setState] = createStore<AppState>({
    window: storedWindow(),
    info: null,
    infoError: null,
    live: { connected: false, tick: 0, lastUpdateAt: null, recent: [] },
    needsToken: false,
    server: { reachable: null, since: null, message: null },
    backend: null,
  });
  const [view, setView] = createSignal<ViewName>(viewFromHash());
  const [now, setNow] = createSignal(Date.now() / 1000);
  const [requestedExport, setRequestedExport] = createSignal<{ format: ExportKind; at: number } | null>(null);

  const navigate = (next: ViewName): void => {
    if (location.hash !== `#/${next}`) location.hash = `#/${next}`;
    setView(next);
  };

  const refreshInfo = async (): Promise<void> => {
    const result = await props.api.appInfo();
    if (!result.ok) {
      setState('infoError', describeError(result.error));
      return;
    }
    setState({ info: result.value, infoError: null });
    // Over IPC the feed is up once subscribed; over HTTP the transport reports it.
    if (result.value.transport === 'ipc' && result.value.serverUrl !== null) setState('live', 'connected', true);
  };

  let healthTimer: ReturnType<typeof setTimeout> | undefined;
  let checking = false;
  const checkHealth = async (): Promise<void> => {
    if (checking) return;
    checking = true;
    if (healthTimer) clearTimeout(healthTimer);
    const result = await props.api.health();
    checking = false;
    const at = Date.now() / 1000;
    if (result.ok) {
      const cameBack = state.server.reachable === false;
      setState('server', { reachable: true, since: state.server.reachable === true ? state.server.since : at, message: null });
      setState('backend', result.value.backend);
      if (cameBack) void refreshInfo();
    } else {
      setState('server', { reachable: false, since: state.server.reachable === false ? state.server.since : at, message: describeError(result.error) });
    }
    const healthy = result.ok && (result.value.backend.reachable !== false || !result.value.backend.configured);
    healthTimer = setTimeout(() => void checkHealth(), healthy ? HEALTH_POLL_MS : HEALTH_POLL_DOWN_MS);
  };

  onMount(() => {
    const onHash = (): void => {
      setView(viewFromHash());
    };
    window.addEventListener('hashchange', onHash);
    const clock = setInterval(() => setNow(Date.now() / 1000), 1000);
    const stopLive = props.api.liveUpdates((update) => {
      setState('live', (live) => ({
        connected: true,
        tick: live.tick + 1,
        lastUpdateAt: update.at,
        recent: [...update.events, ...live.recent].slice(0, 50),
      }));
    });
    const stopCommands = props.api.appCommands((command) => {
      if (command.type === 'navigate') navigate(command.view);
      else {
        navigate('export');
        setRequestedExport({ format: command.format, at: Date.now() });
      }
    });
    void refreshInfo();
    void checkHealth();
    onCleanup(() => {
      if (healthTimer) clearTimeout(healthTimer);
      window.removeEventListener('hashchange', onHash);
      clearInterval(clock);
      stopLive();
      stopCommands();
    });
  });

  const value: AppContextValue = {
    get api() {
      return props.api;
    },
    state,
    view,
    navigate,
    setWindow: (next) => {
      localStorage.setItem(WINDOW_KEY, next);
      setState('window', next);
    },
    refreshInfo,
    now,
    requestedExport,
    consumeRequestedExport: () => setRequestedExport(null),
    setLiveConnected: (connected) => {
      const dropped = state.live.connected && !connected;
      setState('live', 'connected', connected);
      if (dropped) void checkHealth();
    },
    checkHealth: () => void checkHealth(),
    serverDown: () => state.server.reachable === false,
    setNeedsToken: (needs) => setState('needsToken', needs),
  };
  return <AppContext.Provider value={value}>{props.children}</AppContext.Provider>;
}

export function useApp(): AppContextValue {
  const context = useContext(AppContext);
  if (!context) throw new Error('useApp() outside <AppProvider>');
  return context;
}
