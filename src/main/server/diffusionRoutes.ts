import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { ENDPOINTS, isStreamEndpoint, type Endpoint } from '../../shared/endpoints';
import { sseData } from '../../shared/frames';
import { GenerateBodySchema, InfillBodySchema, toGenerateRequest, toInfillRequest, type DiffusionRequest, type GenerateResponse } from '../../shared/requests';
import { validationError } from './errorReplies';
import { StopScanner } from './stopScanner';
import { RequestLifecycle, type AcceptedRequest, type AnswerWriter, type Door, type LifecycleDeps } from './requestLifecycle';

export type { InFlightTracker } from './requestLifecycle';
export type DiffusionRouteDeps = LifecycleDeps;

/** Our own contract's answers: `GenerateResponse`, the `status/step/delta/complete/error` frames. */
function diffusionWriter(accepted: AcceptedRequest, requestId: string): AnswerWriter {
  // Deltas stop at a stop sequence as the final text does; step canvases are relayed whole.
  const scanner = new StopScanner(accepted.request.stop);
  return {
    json: (answer): GenerateResponse => ({
      text: answer.text,
      model_id: answer.modelUsed,
      generation_time: answer.generationTime,
      token_count: answer.tokenCount,
      steps: answer.steps,
      request_id: requestId,
    }),
    open: () => sseData({ type: 'status', message: `generating with ${accepted.request.model_id ?? 'the default model'}`, request_id: requestId }),
    frame: (frame) => {
      if (frame.type !== 'delta') return sseData(frame);
      const text = scanner.push(frame.text);
      return text === '' ? '' : sseData({ type: 'delta', text });
    },
    complete: (answer) =>
      sseData({ type: 'complete', text: answer.text, generation_time: answer.generationTime, model_used: answer.modelUsed, token_count: answer.tokenCount }),
    error: (error) => sseData({ type: 'error', error_type: error.type, message: error.message, retryable: error.retryable }),
  };
}

/** One of the four `/api/diffusion/*` routes as a door of the lifecycle. */
function diffusionDoor(endpoint: Endpoint): Door {
  const infill = endpoint.startsWith('infill');
  const schema: z.ZodType = infill ? InfillBodySchema : GenerateBodySchema;
  const build = (infill ? toInfillRequest : toGenerateRequest) as (body: unknown) => DiffusionRequest;
  return {
    api: 'diffusion',
    endpointOf: () => endpoint,
    accept: (body) => {
      const parsed = schema.safeParse(body);
      if (!parsed.success) throw validationError(parsed.error, 'body', schema);
      return { request: build(parsed.data), stream: isStreamEndpoint(endpoint) };
    },
    errorBody: (error, requestId) => error.toBody(requestId),
    writer: (accepted, meta) => diffusionWriter(accepted, meta.requestId),
  };
}

/**
 * The four measured diffusion routes and the models route. Every request to the four routes
 * records exactly one event, whatever its outcome (see `RequestLifecycle`).
 */
export async function registerDiffusionRoutes(app: FastifyInstance, lifecycle: RequestLifecycle, deps: Pick<LifecycleDeps, 'defaultModel'>): Promise<void> {
  await lifecycle.mount(
    app,
    ENDPOINTS.map((endpoint) => ({ path: `/api/diffusion/${endpoint}`, door: diffusionDoor(endpoint) })),
  );

  app.get('/api/diffusion/models', async (request, reply) => {
    const { models, backend } = await lifecycle.listModels(reply);
    return { models, default_model: deps.defaultModel() ?? models[0] ?? null, backend: backend.kind, request_id: String(request.id) };
  });
}
