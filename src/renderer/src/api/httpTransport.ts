import {
  HTTP_ROUTES,
  exportFileName,
  failure,
  failureOfErrorBody,
  ok,
  type AppCommand,
  type DiffusionMonitorApi,
  type ExportOutcome,
  type LiveUpdate,
  readHealthReport,
  type ModelList,
  type Result,
} from '../../../shared/api';
import { runDiffusionStream } from '../../../shared/runStream';
import { readSseBody } from '../../../shared/sseReader';

const TOKEN_KEY = 'diffusion-monitor.token';

/** The bearer token a protected server asks the browser for, kept in this tab's session only. */
export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string | null): void => (token ? sessionStorage.setItem(TOKEN_KEY, token) : sessionStorage.removeItem(TOKEN_KEY)),
};

export interface HttpTransportOptions {
  /** Called when the live-updates stream connects or drops. */
  onLiveChange?: (connected: boolean) => void;
  /** Called when the server answers 401: it needs a token this browser does not have. */
  onUnauthorized?: () => void;
  /** The HTTP client (the browser's `fetch` unless a test hands in another). */
  fetch?: typeof fetch;
  /** Where the bearer token is kept (this browser's localStorage by default). */
  tokens?: Pick<typeof tokenStore, 'get'>;
}

/**
 * The API over HTTP + SSE for the dashboard opened in a browser: `/api/monitor/*` for the
 * monitor's own calls, the public `/api/diffusion/*` routes for models and the playground.
 */
export function createHttpTransport(options: HttpTransportOptions = {}): DiffusionMonitorApi {
  const fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const tokens = options.tokens ?? tokenStore;
  const headers = (): Record<string, string> => {
    const token = tokens.get();
    return token ? { Authorization: `Bearer ${token}` } : {};
  };

  async function toResult<T>(response: Response): Promise<Result<T>> {
    const text = await response.text();
    if (!response.ok) {
      if (response.status === 401) options.onUnauthorized?.();
      return failureOfErrorBody(text) ?? failure('internal', `the server answered HTTP ${response.status}`);
    }
    let json: unknown = null;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      json = null;
    }
    return ok(json as T);
  }

  async function request<T>(method: string, path: string, body?: unknown, query?: Record<string, string | number | undefined>): Promise<Result<T>> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) params.set(key, String(value));
    const url = params.size > 0 ? `${path}?${params.toString()}` : path;
    try {
      const response = await fetch(url, {
        method,
        headers: { ...headers(), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return await toResult<T>(response);
    } catch (error) {
      return failure('network', `cannot reach the Diffusion Monitor server: ${(error as Error).message}`);
    }
  }

  // One live-updates stream shared by every subscriber, reconnected with back-off.
  const liveListeners = new Set<(update: LiveUpdate) => void>();
  let liveAbort: AbortController | null = null;
  const connectLive = async (): Promise<void> => {
    let delay = 1000;
    while (liveAbort && !liveAbort.signal.aborted) {
      const abort = liveAbort;
      try {
        const response = await fetch(HTTP_ROUTES.liveUpdates.path, { headers: { ...headers(), Accept: 'text/event-stream' }, signal: abort.signal });
        if (response.status === 401) options.onUnauthorized?.();
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        options.onLiveChange?.(true);
        delay = 1000;
        await readSseBody(response.body, (data) => {
          const update = JSON.parse(data) as LiveUpdate;
          for (const listener of liveListeners) listener(update);
        });
      } catch {
        // Dropped or refused: retry below unless unsubscribed.
      }
      options.onLiveChange?.(false);
      if (abort.signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 15_000);
    }
  };

  return {
    appInfo: () => request('GET', HTTP_ROUTES.appInfo.path),
    summary: (window) => request('GET', HTTP_ROUTES.summary.path, undefined, { window }),
    series: (window) => request('GET', HTTP_ROUTES.series.path, undefined, { window }),
    events: (query) => request('GET', HTTP_ROUTES.events.path, undefined, { ...query }),
    models: async () => {
      const result = await request<{ models: string[]; default_model: string | null; backend: string }>('GET', '/api/diffusion/models');
      return result.ok ? ok<ModelList>({ models: result.value.models, defaultModel: result.value.default_model, backend: result.value.backend }) : result;
    },
    health: async () => {
      const result = await request<unknown>('GET', '/api/diffusion/health');
      return result.ok ? ok(readHealthReport(result.value)) : result;
    },
    testConnection: (target) => request('POST', HTTP_ROUTES.testConnection.path, target),
    getSettings: () => request('GET', HTTP_ROUTES.getSettings.path),
    saveSettings: (update) => request('PUT', HTTP_ROUTES.saveSettings.path, update),
    changePort: async () => failure('validation', 'only the desktop app changes its own port; restart the server with --port'),
    liveUpdates: (listener) => {
      liveListeners.add(listener);
      if (!liveAbort) {
        liveAbort = new AbortController();
        void connectLive();
      }
      return () => {
        liveListeners.delete(listener);
        if (liveListeners.size === 0) {
          liveAbort?.abort();
          liveAbort = null;
        }
      };
    },
    appCommands: (_listener: (command: AppCommand) => void) => () => {},
    run: (runRequest, onFrame) => {
      const abort = new AbortController();
      return {
        result: runDiffusionStream({ baseUrl: '', request: runRequest, onFrame, signal: abort.signal, headers: headers(), fetch }),
        cancel: () => abort.abort(),
      };
    },
    export: (exportRequest, onProgress) => {
      const abort = new AbortController();
      const result = (async (): Promise<Result<ExportOutcome>> => {
        const params = new URLSearchParams({ format: exportRequest.format, window: exportRequest.window ?? 'all' });
        let response: Response;
        try {
          response = await fetch(`${HTTP_ROUTES.export.path}?${params.toString()}`, { headers: headers(), signal: abort.signal });
        } catch (error) {
          return abort.signal.aborted ? failure('cancelled', 'export cancelled') : failure('network', `cannot reach the server: ${(error as Error).message}`);
        }
        if (!response.ok || !response.body) return toResult<ExportOutcome>(response);
        const parts: Uint8Array[] = [];
        let bytes = 0;
        try {
          const reader = response.body.getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            parts.push(value);
            bytes += value.byteLength;
            onProgress({ bytes, rows: null, totalRows: null });
          }
        } catch (error) {
          return abort.signal.aborted ? failure('cancelled', 'export cancelled') : failure('network', `the download broke off: ${(error as Error).message}`);
        }
        const named = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') ?? '')?.[1];
        const fileName = named ?? exportFileName(exportRequest.format, new Date(), exportRequest.window ?? 'all');
        const url = URL.createObjectURL(new Blob(parts as BlobPart[], { type: response.headers.get('Content-Type') ?? 'application/octet-stream' }));
        const link = document.createElement('a');
        link.href = url;
        link.download = fileName;
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
        return ok({ saved: true, location: fileName, bytes, rows: null });
      })();
      return { result, cancel: () => abort.abort() };
    },
  };
}
