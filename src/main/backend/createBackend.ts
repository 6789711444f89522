import type { BackendKind, OpenAiGenerateApi, OpenAiInfillApi } from '../../shared/apiSchemas';
import type { DiffusionBackend } from './diffusionBackend';
import { DllmBackend } from './dllmBackend';
import { OpenAiBackend } from './openaiBackend';
import { UnconfiguredBackend } from './unconfiguredBackend';

/** Everything needed to build the client of the configured model runtime. */
export interface CreateBackendOptions {
  kind: BackendKind;
  /** Base URL; null gives an `UnconfiguredBackend`. */
  url: string | null;
  /** Default model when a request names none. */
  model: string | null;
  timeoutSeconds: number;
  /** Bearer token sent upstream (both protocols). */
  apiKey?: string | null;
  /** Only read when `kind` is `openai`. */
  openai?: { generateApi?: OpenAiGenerateApi; infillApi?: OpenAiInfillApi; diffusing?: boolean };
}

/** Builds the backend client for a protocol; the caller owns it and must `close()` it. */
export function createBackend(options: CreateBackendOptions): DiffusionBackend {
  if (options.url === null) return new UnconfiguredBackend(options.kind);
  const common = { url: options.url, timeoutSeconds: options.timeoutSeconds, model: options.model, apiKey: options.apiKey ?? null };
  switch (options.kind) {
    case 'dllm':
      return new DllmBackend(common);
    case 'openai':
      return new OpenAiBackend({ ...common, ...options.openai });
  }
}
