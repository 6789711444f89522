import type { BackendTarget, EditableSettings, EventsQuery, ExportKind, ExportRequest, RunRequest, SettingsUpdate } from './apiSchemas';
import { ErrorBodySchema, type ErrorType } from './errors';
import type { PerformanceEvent } from './events';
import type { StreamFrame } from './frames';
import type { MetricsSeries, TimeWindowKey } from './series';
import type { MetricsSummary } from './summary';

/**
 * The one contract between the renderer and the main process. The desktop app implements it
 * over IPC (preload ↔ `src/main/shell/ipc.ts`), the browser over HTTP + SSE
 * (`src/renderer/src/api/httpTransport.ts` ↔ `src/main/server/dashboardRoutes.ts`). Channel
 * names and HTTP routes are derived from the keys below; nothing else is exposed to the page.
 */
export interface DiffusionMonitorApi {
  /** Where the app runs, what it listens on, and why it could not start if it could not. */
  appInfo(): Promise<Result<AppInfo>>;
  /** The metrics summary for a window (KPI tiles, breakdowns). */
  summary(window: TimeWindowKey): Promise<Result<MetricsSummary>>;
  /** Bucketed time series for a window, aggregated in the main process. */
  series(window: TimeWindowKey): Promise<Result<MetricsSeries>>;
  /** One page of recorded events, newest first. */
  events(query: EventsQuery): Promise<Result<EventsPage>>;
  /** Models the configured backend offers. */
  models(): Promise<Result<ModelList>>;
  /** The server's `/api/diffusion/health`: whether the model backend answers, and since when. */
  health(): Promise<Result<HealthReport>>;
  /** Probes a backend (not necessarily the saved one) and lists its models. */
  testConnection(target: BackendTarget): Promise<Result<ConnectionReport>>;
  getSettings(): Promise<Result<SettingsView>>;
  /** Saves to the settings file and applies what can be applied without a restart. */
  saveSettings(update: SettingsUpdate): Promise<Result<SaveOutcome>>;
  /** Desktop only: starts the embedded server on another port after a conflict. */
  changePort(port: number): Promise<Result<AppInfo>>;
  /** Pushed when recorded events reach the database (coalesced, a few per second at most). */
  liveUpdates(listener: (update: LiveUpdate) => void): Unsubscribe;
  /** Commands from the native menu (desktop only; the browser never sends any). */
  appCommands(listener: (command: AppCommand) => void): Unsubscribe;
  /** Streams a generation or infill from the embedded server's stream route, frame by frame. */
  run(request: RunRequest, onFrame: (frame: StreamFrame) => void): StreamHandle<RunOutcome>;
  /** Exports to a file: the native save dialog on the desktop, a download in the browser. */
  export(request: ExportRequest, onProgress: (progress: ExportProgress) => void): StreamHandle<ExportOutcome>;
}

/** Every call's answer. Errors are values, never exceptions across the bridge. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiError };
export interface ApiError {
  type: ErrorType;
  message: string;
}
export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const failure = (type: ErrorType, message: string): { ok: false; error: ApiError } => ({ ok: false, error: { type, message } });

/**
 * The failure an error answer states in its body (`{"error": {"type", "message"}}`, as every
 * route of ours answers), or `null` when the body is not JSON of that shape.
 */
export function failureOfErrorBody(text: string): { ok: false; error: ApiError } | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const body = ErrorBodySchema.safeParse(json);
  return body.success ? failure(body.data.error.type, body.data.error.message) : null;
}

export type Unsubscribe = () => void;

/** A running stream: its final result, and a way to stop it early. */
export interface StreamHandle<T> {
  result: Promise<Result<T>>;
  cancel(): void;
}

export interface StartupProblem {
  type: 'port_in_use' | 'listen_failed';
  message: string;
  port: number;
  /** A free port to offer instead. */
  suggestedPort: number | null;
}

export interface AppInfo {
  version: string;
  transport: 'ipc' | 'http';
  /** The embedded server, `null` while it is not running. */
  serverUrl: string | null;
  dbPath: string;
  settingsFile: string | null;
  backend: { kind: string; url: string | null; model: string | null };
  startupProblem: StartupProblem | null;
}

export interface EventsPage {
  events: PerformanceEvent[];
  /** Pass as `before` for the next (older) page; `null` on the last page. */
  nextBefore: number | null;
}

export interface ModelList {
  models: string[];
  defaultModel: string | null;
  backend: string;
}

/** What the dashboard reads of `/api/diffusion/health`. */
export interface HealthReport {
  backend: BackendHealthReport;
}

export interface BackendHealthReport {
  /** `false` when no backend is set up (`--backend none`). */
  configured: boolean;
  kind: string;
  url: string | null;
  /** `null` when not configured or not probed yet. */
  reachable: boolean | null;
  models: string[];
  last_error: string | null;
  /** Unix seconds of the probe behind this answer. */
  checked_at: number | null;
  /** Unix seconds since when `reachable` has had its value, when the server knows. */
  since: number | null;
}

/**
 * Reads a health answer leniently: fields it lacks are filled in, so an older or newer server
 * still shows its backend's state.
 */
export function readHealthReport(json: unknown): HealthReport {
  const backend = ((json as { backend?: unknown } | null)?.backend ?? {}) as Record<string, unknown>;
  const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
  const seconds = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
  return {
    backend: {
      configured: backend.configured !== false,
      kind: text(backend.kind) ?? 'unknown',
      url: text(backend.url),
      reachable: typeof backend.reachable === 'boolean' ? backend.reachable : null,
      models: Array.isArray(backend.models) ? backend.models.filter((m): m is string => typeof m === 'string') : [],
      last_error: text(backend.last_error),
      checked_at: seconds(backend.checked_at),
      since: seconds(backend.since),
    },
  };
}

export interface ConnectionReport {
  models: string[];
  latencyMs: number;
}

export type SettingField = keyof EditableSettings;

export interface SettingsView {
  /** What the settings file holds (fields it does not set are absent). */
  saved: Partial<EditableSettings>;
  /** What the app runs with now, after flags and environment variables. */
  effective: EditableSettings;
  /** Fields whose effective value comes from a flag or environment variable, not the file. */
  overridden: SettingField[];
  /** Where saves go; `null` when this process has nowhere to save. */
  file: string | null;
}

export interface SaveOutcome {
  settings: SettingsView;
  /** Changed fields already in effect. */
  applied: SettingField[];
  /** Changed fields that take effect at the next start. */
  restartRequired: SettingField[];
}

export interface LiveUpdate {
  /** Unix seconds of the push. */
  at: number;
  /** Events recorded since the previous push. */
  count: number;
  /** The newest of them (at most 20), newest first. */
  events: PerformanceEvent[];
}

export const VIEWS = ['dashboard', 'playground', 'events', 'settings', 'export'] as const;
export type ViewName = (typeof VIEWS)[number];

export type AppCommand = { type: 'navigate'; view: ViewName } | { type: 'export'; format: ExportKind };

export interface RunOutcome {
  text: string;
  requestId: string | null;
  modelUsed: string;
  generationTime: number;
  tokenCount: number;
  /** Step frames received. */
  steps: number;
  /** Seconds from sending to the first step or delta frame. */
  timeToFirstFrame: number | null;
  /** Wall seconds of the whole stream. */
  duration: number;
}

export interface ExportProgress {
  bytes: number;
  rows: number | null;
  totalRows: number | null;
}

export interface ExportOutcome {
  /** `false` when the user dismissed the save dialog. */
  saved: boolean;
  /** Full path on the desktop, file name in the browser. */
  location: string | null;
  bytes: number;
  rows: number | null;
}

// ---- How each key crosses a transport -------------------------------------------------------

/** `invoke`: request → result. `subscribe`: listener until unsubscribed. `stream`: input, events, result, cancel. */
export type MethodKind = 'invoke' | 'subscribe' | 'stream';

export const API_METHODS = {
  appInfo: 'invoke',
  summary: 'invoke',
  series: 'invoke',
  events: 'invoke',
  models: 'invoke',
  health: 'invoke',
  testConnection: 'invoke',
  getSettings: 'invoke',
  saveSettings: 'invoke',
  changePort: 'invoke',
  liveUpdates: 'subscribe',
  appCommands: 'subscribe',
  run: 'stream',
  export: 'stream',
} as const satisfies Record<keyof DiffusionMonitorApi, MethodKind>;

export type ApiKey = keyof DiffusionMonitorApi;
type KeysOfKind<Kind extends MethodKind> = { [K in ApiKey]: (typeof API_METHODS)[K] extends Kind ? K : never }[ApiKey];
export type InvokeKey = KeysOfKind<'invoke'>;
export type SubscribeKey = KeysOfKind<'subscribe'>;
export type StreamKey = KeysOfKind<'stream'>;

/** The argument of an invoke method (`undefined` for none). */
export type InvokeInput<K extends InvokeKey> = Parameters<DiffusionMonitorApi[K]> extends [infer A] ? A : undefined;
export type InvokeValue<K extends InvokeKey> = Awaited<ReturnType<DiffusionMonitorApi[K]>> extends Result<infer V> ? V : never;
export type StreamInput<K extends StreamKey> = Parameters<DiffusionMonitorApi[K]>[0];
export type StreamEvent<K extends StreamKey> = Parameters<Parameters<DiffusionMonitorApi[K]>[1]>[0];
export type StreamValue<K extends StreamKey> = ReturnType<DiffusionMonitorApi[K]> extends StreamHandle<infer V> ? V : never;
export type SubscribeEvent<K extends SubscribeKey> = Parameters<Parameters<DiffusionMonitorApi[K]>[0]>[0];

// Compile-time proof that every key's signature fits its kind.
type KindFits = {
  [K in ApiKey]: (typeof API_METHODS)[K] extends 'invoke'
    ? DiffusionMonitorApi[K] extends (input: never) => Promise<Result<unknown>>
      ? true
      : false
    : (typeof API_METHODS)[K] extends 'subscribe'
      ? DiffusionMonitorApi[K] extends (listener: never) => Unsubscribe
        ? true
        : false
      : DiffusionMonitorApi[K] extends (input: never, onEvent: never) => StreamHandle<unknown>
        ? true
        : false;
};
export const API_KINDS_FIT: KindFits = {
  appInfo: true,
  summary: true,
  series: true,
  events: true,
  models: true,
  health: true,
  testConnection: true,
  getSettings: true,
  saveSettings: true,
  changePort: true,
  liveUpdates: true,
  appCommands: true,
  run: true,
  export: true,
};

/** The global the preload exposes the API object under (`window.diffusionMonitor`). */
export const BRIDGE_NAME = 'diffusionMonitor';

// ---- IPC channel names ----------------------------------------------------------------------

const CHANNEL_PREFIX = 'diffusion-monitor:';

/**
 * The IPC channel of a key: `diffusion-monitor:<key>` for the call itself, with `:event` for
 * what main pushes back (frames, progress, updates) and `:cancel` for stopping a stream or a
 * subscription.
 */
export function channelOf(key: ApiKey, part?: 'event' | 'cancel'): string {
  return part === undefined ? `${CHANNEL_PREFIX}${key}` : `${CHANNEL_PREFIX}${key}:${part}`;
}

/** The keys of the API, in declaration order. */
export const API_KEYS = Object.keys(API_METHODS) as ApiKey[];

// ---- HTTP routes of the browser transport ---------------------------------------------------

export const MONITOR_PREFIX = '/api/monitor';

/**
 * The HTTP route of each key the browser reaches through `/api/monitor`. `run`, `models` and
 * `health` use the public routes (`/api/diffusion/{generate,infill}/stream`, `/api/diffusion/models`,
 * `/api/diffusion/health`)
 * directly, and `changePort` and `appCommands` only exist on the desktop.
 */
export const HTTP_ROUTES = {
  appInfo: { method: 'GET', path: `${MONITOR_PREFIX}/info` },
  summary: { method: 'GET', path: `${MONITOR_PREFIX}/summary` },
  series: { method: 'GET', path: `${MONITOR_PREFIX}/series` },
  events: { method: 'GET', path: `${MONITOR_PREFIX}/events` },
  testConnection: { method: 'POST', path: `${MONITOR_PREFIX}/test-connection` },
  getSettings: { method: 'GET', path: `${MONITOR_PREFIX}/settings` },
  saveSettings: { method: 'PUT', path: `${MONITOR_PREFIX}/settings` },
  liveUpdates: { method: 'GET', path: `${MONITOR_PREFIX}/live` },
  export: { method: 'GET', path: `${MONITOR_PREFIX}/export` },
} as const satisfies { [K in Exclude<ApiKey, 'run' | 'models' | 'health' | 'changePort' | 'appCommands'>]: { method: 'GET' | 'POST' | 'PUT'; path: string } };

/**
 * `diffusion-monitor-15m-2025-11-28T0745.csv`: the default file name of an export, saying which
 * window it holds (Prometheus counters are always all-time) and when it was taken, local time.
 */
export function exportFileName(format: ExportKind, date: Date, window: TimeWindowKey = 'all'): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}${pad(date.getMinutes())}`;
  const extension: Record<ExportKind, string> = { json: 'json', prometheus: 'prom', influxdb: 'lp', csv: 'csv' };
  const span = format === 'prometheus' ? 'all' : window;
  return `diffusion-monitor-${span}-${stamp}.${extension[format]}`;
}

export type { BackendTarget, EditableSettings, EventsQuery, ExportKind, ExportRequest, RunRequest, SettingsUpdate, TimeWindowKey };
