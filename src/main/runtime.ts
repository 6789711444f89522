import type { AppConfig } from './config';
import { createBackend, type CreateBackendOptions } from './backend/createBackend';
import type { DiffusionBackend } from './backend/diffusionBackend';
import { applyLiveSettings } from './settingsService';

/** The backend options a resolved configuration asks for. */
export function backendOptionsFromConfig(config: AppConfig): CreateBackendOptions {
  return {
    kind: config.backendKind,
    url: config.backendUrl,
    model: config.model,
    timeoutSeconds: config.timeoutSeconds,
    apiKey: config.apiKey,
    openai: { generateApi: config.openaiGenerateApi, infillApi: config.openaiInfillApi, diffusing: config.openaiDiffusing },
  };
}

/**
 * What the process runs with now: the configuration (live settings applied) and the backend
 * client built from it. Both transports' Settings saves land here, so there is one place where a
 * new backend URL or protocol takes over.
 */
export class Runtime {
  private current: AppConfig;
  private client: DiffusionBackend;

  constructor(config: AppConfig, backend?: DiffusionBackend) {
    this.current = config;
    this.client = backend ?? createBackend(backendOptionsFromConfig(config));
  }

  /** The configuration running now. */
  config(): AppConfig {
    return this.current;
  }

  /** The backend client serving requests now. */
  backend(): DiffusionBackend {
    return this.client;
  }

  /** The model a request uses when it names none. */
  defaultModel(): string | null {
    return this.current.model;
  }

  /** The port the server really listens on (port 0 asks for any free one). */
  listening(port: number): void {
    this.current = { ...this.current, port };
  }

  /**
   * Takes over the live settings of `next` (backend, model, timeout, OpenAI options) with a new
   * backend client; port, database and token keep their running values until the next start.
   */
  apply(next: AppConfig): void {
    this.current = applyLiveSettings(this.current, next);
    const previous = this.client;
    this.client = createBackend(backendOptionsFromConfig(this.current));
    // Requests already running finish on the old client; close it once they are done.
    setTimeout(() => void previous.close(), Math.ceil(this.current.timeoutSeconds * 1000) + 1000).unref();
  }

  /** Closes the current client. */
  async close(): Promise<void> {
    await this.client.close();
  }
}
