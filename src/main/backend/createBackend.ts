import { CHECKOUT_MODEL_DIR, type AppConfig, type BackendKind, type OpenAiGenerateApi, type OpenAiInfillApi } from '../config';
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
  /** The built-in model: its folder (default: the checkout's `resources/model`) and its queue. */
  builtin?: { modelDir?: string; queueLimit?: number; slots?: number };
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
    const builtin = options.builtin ?? {};
    return new BuiltinBackend({
      modelDir: builtin.modelDir ?? CHECKOUT_MODEL_DIR,
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

/** The backend options a resolved configuration asks for. */
export function backendOptionsFromConfig(config: AppConfig): CreateBackendOptions {
  return {
    kind: config.backendKind,
    url: config.backendUrl,
    off: config.backendOff,
    builtin: { modelDir: config.modelDir, queueLimit: config.builtinQueue, slots: config.builtinSlots },
    model: config.model,
    timeoutSeconds: config.timeoutSeconds,
    apiKey: config.apiKey,
    openai: { generateApi: config.openaiGenerateApi, infillApi: config.openaiInfillApi, diffusing: config.openaiDiffusing },
  };
}
