import { failure, failureOfErrorBody, ok, type Result, type RunOutcome } from './api';
import type { RunRequest } from './apiSchemas';
import { ErrorTypeSchema } from './errors';
import { StreamFrameSchema, type StreamFrame } from './frames';
import { readSseBody } from './sseReader';

export interface RunStreamOptions {
  /** Base URL of the embedded server; `''` for same-origin requests from the browser. */
  baseUrl: string;
  request: RunRequest;
  onFrame: (frame: StreamFrame) => void;
  signal: AbortSignal;
  headers?: Record<string, string>;
  fetch?: typeof fetch;
  now?: () => number;
}

/**
 * Runs one playground request against `POST /api/diffusion/{generate,infill}/stream` and relays
 * its frames. The desktop's main process and the browser both call the public route, so the
 * playground's requests are measured and recorded like any other client's.
 */
export async function runDiffusionStream(options: RunStreamOptions): Promise<Result<RunOutcome>> {
  const now = options.now ?? (() => performance.now() / 1000);
  const started = now();
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(`${options.baseUrl}/api/diffusion/${options.request.mode}/stream`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream', ...options.headers },
      body: JSON.stringify(options.request.body),
      signal: options.signal,
    });
  } catch (error) {
    if (options.signal.aborted) return failure('cancelled', 'cancelled');
    return failure('network', `cannot reach the embedded server: ${(error as Error).message}`);
  }
  if (!response.ok || response.body === null) {
    const text = await response.text().catch(() => '');
    return (
      failureOfErrorBody(text) ??
      failure(response.status === 401 ? 'validation' : 'internal', `the server answered HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`)
    );
  }

  let requestId = response.headers.get('X-Request-Id');
  let steps = 0;
  let firstFrameAt: number | null = null;
  // Set inside the frame callback; an object so the type checker does not narrow it to null.
  const end: { outcome: Result<RunOutcome> | null } = { outcome: null };
  try {
    await readSseBody(response.body, (data) => {
      let json: unknown;
      try {
        json = JSON.parse(data);
      } catch {
        return;
      }
      const frame = StreamFrameSchema.safeParse(json);
      if (!frame.success) return;
      const value = frame.data;
      if (value.type === 'status' && value.request_id) requestId = value.request_id;
      if (value.type === 'step' || value.type === 'delta') {
        firstFrameAt ??= now();
        if (value.type === 'step') steps += 1;
      }
      if (value.type === 'complete') {
        end.outcome = ok({
          text: value.text,
          requestId,
          modelUsed: value.model_used,
          generationTime: value.generation_time,
          tokenCount: value.token_count,
          steps,
          timeToFirstFrame: firstFrameAt === null ? null : firstFrameAt - started,
          duration: now() - started,
        });
      }
      if (value.type === 'error') {
        const type = ErrorTypeSchema.safeParse(value.error_type);
        end.outcome = failure(type.success ? type.data : 'backend', value.message);
      }
      options.onFrame(value);
    });
  } catch (error) {
    if (options.signal.aborted) return failure('cancelled', 'cancelled');
    return failure('network', `the stream broke off: ${(error as Error).message}`);
  }
  if (options.signal.aborted) return failure('cancelled', 'cancelled');
  return end.outcome ?? failure('backend', 'the stream ended without a result');
}
