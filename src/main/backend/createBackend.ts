import type { BackendKind, OpenAiGenerateApi, OpenAiInfillApi } from '../../shared/apiSchemas';
import { BuiltinBackend } from './builtin/builtinBackend';
import type { DiffusionBackend } from './diffusionBackend';
import { DllmBackend } from './dllmBackend';
import { OpenAiBackend } from './openaiBackend';
import { UnconfiguredBackend } from './unconfiguredBackend';

/** Everything needed to build the client of the configured model runtime. */
export interface CreateBackendOptions {
  kind: BackendKind;
  /** A remote backend's base URL; null serves the built-in model, or nothing when `off`. */
  url: string | null;
  /** `--backend none`: an `UnconfiguredBackend` that answers every run with `model_unavailable`. */
  off?: boolean;
  /** The built-in model, served when `url` is null: its folder and its queue. */
  builtin?: { modelDir: string; queueLimit?: number; slots?: number };
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
  if (options.off === true) return new UnconfiguredBackend();
  if (options.url === null) {
    const builtin = options.builtin;
    if (builtin === undefined) throw new Error('createBackend: serving the built-in model needs its folder (options.builtin.modelDir)');
    return new BuiltinBackend({
      modelDir: builtin.modelDir,
      timeoutSeconds: options.timeoutSeconds,
      ...(builtin.queueLimit === undefined ? {} : { queueLimit: builtin.queueLimit }),
      ...(builtin.slots === undefined ? {} : { slots: builtin.slots }),
    });
  }
  const common = { url: options.url, timeoutSeconds: options.timeoutSeconds, model: options.model, apiKey: options.apiKey ?? null };
  switch (options.kind) {
    case 'dllm':
      return new DllmBackend(common);
    case 'openai':
      return new OpenAiBackend({ ...common, ...options.openai });
  }
}
