import type { StatusFrame, StepFrame, DeltaFrame } from '../../shared/frames';
import type { DiffusionRequest } from '../../shared/requests';
import type { BackendKind } from '../../shared/apiSchemas';

/** What `/api/diffusion/health` says about the model runtime. */
export interface BackendHealth {
  configured: boolean;
  kind: BackendKind;
  url: string | null;
  reachable: boolean | null;
  models: string[];
  last_error: string | null;
  checked_at: number | null;
  /** Unix seconds since when `reachable` has had its current value (the first probe that saw it). */
  since?: number | null;
}

/** Frames a backend produces while it works; the stream routes relay them unchanged. */
export type BackendFrame = StatusFrame | StepFrame | DeltaFrame;

/** The outcome of one successful generation or infill. */
export interface BackendResult {
  /** The final text (for infill: the text that fills the gap). */
  text: string;
  /** The model that answered, as the backend names it. */
  modelUsed: string;
  /** A real token count when the backend reported one (`usage`, `token_count`). */
  tokenCount?: number;
  /** The backend's own generation time in seconds, when it reports one. */
  generationTime?: number;
  /** Denoising steps performed, when known. */
  steps?: number;
  /** Seconds from sending the request to the first `step` or `delta` frame, when streamed. */
  timeToFirstStep?: number;
  /**
   * Text-carrying chunks of an OpenAI-compatible stream: one per block for block diffusion
   * (SGLang's dLLM mode), one per canvas (vLLM), one per token for autoregressive servers.
   */
  chunks?: number;
  /** Seconds from sending the request to the first text-carrying chunk (the first block). */
  timeToFirstChunk?: number;
  /** The backend's own id of the request (`request_id`, `X-Request-Id`, `X-Correlation-ID`). */
  upstreamRequestId?: string;
}

export interface RunOptions {
  /** Aborted when our client goes away; the upstream request must be aborted at once. */
  signal: AbortSignal;
  /** Called for each intermediate frame, in order. Stream routes relay them. */
  onFrame?: (frame: BackendFrame) => void;
}

/**
 * The client of the model runtime the user runs; one implementation per protocol. Every failure
 * is thrown as a `DiffusionError` of the taxonomy (timeout, network, backend, model_unavailable,
 * cancelled); timeouts and aborts are the client's job, not the routes'.
 */
export interface DiffusionBackend {
  readonly kind: BackendKind;
  readonly url: string | null;
  run(request: DiffusionRequest, options: RunOptions): Promise<BackendResult>;
  listModels(signal?: AbortSignal): Promise<string[]>;
  health(): Promise<BackendHealth>;
  close(): Promise<void>;
}
