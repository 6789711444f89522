import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Endpoint } from '../../../shared/endpoints';
import { DiffusionError } from '../../../shared/errors';
import type { DiffusionBackend } from '../../backend/diffusionBackend';
import type { Logger } from '../../../shared/logger';
import { toDiffusionError } from '../errorReplies';
import type { Door, RequestLifecycle } from '../requestLifecycle';
import { llamaCppInfillDoor } from './llamaCppInfill';
import { openAiErrorBody, openAiWriter, type OpenAiShape } from './openAiAnswers';
import { readChatRequest, readCompletionsRequest, readFimRequest, type OpenAiAccepted } from './openAiRequests';

const streamed = (body: unknown): boolean => (body as { stream?: unknown } | null)?.stream === true;

function openAiDoor(
  api: Door['api'],
  shape: OpenAiShape,
  read: (body: unknown) => OpenAiAccepted,
  endpointOf: (body: unknown) => Endpoint,
): Door<OpenAiAccepted> {
  return {
    api,
    endpointOf,
    accept: read,
    errorBody: (error) => openAiErrorBody(error),
    writer: (accepted, meta) => openAiWriter(shape, accepted, meta),
  };
}

/** Chat: always a generation. */
export const chatDoor = openAiDoor('openai_chat', 'chat', readChatRequest, (body) => (streamed(body) ? 'generate/stream' : 'generate'));

/** Completions: an infill when there is a suffix (a templated prompt is only known once read). */
export const completionsDoor = openAiDoor('openai_completions', 'text', readCompletionsRequest, (body) => {
  const infill = typeof (body as { suffix?: unknown } | null)?.suffix === 'string';
  if (streamed(body)) return infill ? 'infill/stream' : 'generate/stream';
  return infill ? 'infill' : 'generate';
});

/** FIM: always an infill. */
export const fimDoor = openAiDoor('fim', 'fim', readFimRequest, (body) => (streamed(body) ? 'infill/stream' : 'infill'));

export interface FrontDoorDeps {
  defaultModel: () => string | null;
  log: Logger;
}

/**
 * The OpenAI-compatible and llama.cpp front door: what editors and tools (Continue, Zed, Tabby,
 * llama.vim/llama.vscode, aider, Cline) send, through the same lifecycle, bridge and store as
 * our own routes, answered in each API's own shapes.
 */
export async function registerFrontDoor(app: FastifyInstance, lifecycle: RequestLifecycle, deps: FrontDoorDeps): Promise<void> {
  await lifecycle.mount(app, [
    { path: '/v1/chat/completions', door: chatDoor },
    { path: '/v1/completions', door: completionsDoor },
    { path: '/v1/fim/completions', door: fimDoor },
    { path: '/infill', door: llamaCppInfillDoor },
  ]);

  const modelCard = (id: string, backend: DiffusionBackend) => ({ id, object: 'model', created: 0, owned_by: backend.kind });
  const listModels = async (reply: FastifyReply): Promise<{ models: string[]; backend: DiffusionBackend }> => {
    const { models: listed, backend } = await lifecycle.listModels(reply);
    const fallback = deps.defaultModel();
    // A backend that lists nothing may still serve the configured model.
    return { models: listed.length > 0 || fallback === null ? listed : [fallback], backend };
  };

  await app.register(
    async (scope) => {
      scope.setErrorHandler((error, request, reply) => {
        const mapped = toDiffusionError(error);
        if (mapped.type === 'internal') deps.log.error(`${request.method} ${request.url}: ${(error as Error).stack ?? String(error)}`);
        return reply.code(mapped.status).type('application/json; charset=utf-8').send(openAiErrorBody(mapped));
      });
      const config = { errorBody: (error: DiffusionError) => openAiErrorBody(error) };
      // Tools probe for routes we lack (`/v1/embeddings`, `/v1/responses`): answer in their shape.
      // A catch-all route rather than a not-found handler, so it carries `config` and the request
      // guards' refusals there (401, 403, 415) reach the client in OpenAI's shape as well; it also
      // outranks the dashboard's static files for GETs under `/v1/`.
      scope.all('/*', { config }, async (request) => {
        throw new DiffusionError('validation', `no route ${request.method} ${request.url.split('?')[0]}`, { status: 404 });
      });

      scope.get('/models', { config }, async (_request, reply) => {
        const { models, backend } = await listModels(reply);
        return { object: 'list', data: models.map((id) => modelCard(id, backend)) };
      });

      scope.get<{ Params: { '*': string } }>('/models/*', { config }, async (request, reply) => {
        const id = request.params['*'];
        const { models, backend } = await listModels(reply);
        if (!models.includes(id)) throw new DiffusionError('validation', `the model ${JSON.stringify(id)} does not exist`, { status: 404 });
        return modelCard(id, backend);
      });
    },
    { prefix: '/v1' },
  );
}
