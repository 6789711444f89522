import type { DiffusionError } from '../../../shared/errors';
import type { DiffusionRequest } from '../../../shared/requests';
import { estimateTokenCount } from '../../metrics/requestEvent';
import type { Answer, AnswerWriter } from '../requestLifecycle';
import type { OpenAiAccepted } from './openAiRequests';
import { StopScanner } from '../stopScanner';

/** OpenAI's error shape: `{error: {message, type, param, code}}`; `code` names our taxonomy type. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

export function openAiErrorBody(error: DiffusionError): OpenAiErrorBody {
  const details = Array.isArray(error.details) ? (error.details as Array<{ field?: unknown }>) : [];
  const field = details[0]?.field;
  const param = error.type === 'validation' && typeof field === 'string' && field !== 'body' ? field : null;
  if (error.status === 401) return { error: { message: error.message, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } };
  return { error: { message: error.message, type: error.status >= 500 ? 'server_error' : 'invalid_request_error', param, code: error.type } };
}

/** OpenAI's `finish_reason`: `stop` for a stop sequence or a natural end, `length` when the token budget ran out. */
export function finishReason(answer: Answer, request: DiffusionRequest): 'stop' | 'length' {
  if (answer.stoppedBy !== null) return 'stop';
  return answer.tokenCount >= request.max_new_tokens ? 'length' : 'stop';
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** Usage with the completion's real count; the prompt's count is the seed's estimate (we do not tokenize). */
export function usageOf(answer: Answer, promptText: string): Usage {
  const prompt = promptText === '' ? 0 : estimateTokenCount(promptText);
  return { prompt_tokens: prompt, completion_tokens: answer.tokenCount, total_tokens: prompt + answer.tokenCount };
}

const sse = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;
const DONE = 'data: [DONE]\n\n';

/** The three OpenAI answer shapes: chat, text completions, and FIM (Mistral's: chat-shaped choices). */
export type OpenAiShape = 'chat' | 'text' | 'fim';

/**
 * Answers of the OpenAI-style routes: `chat.completion` / `text_completion` objects with
 * `usage`, and streams of deltas ending with `finish_reason`, the usage chunk when asked for
 * (`stream_options.include_usage`), then `[DONE]`. Denoising steps have no place in these APIs:
 * they are not sent (a backend that sends only steps has its final text sent as one delta).
 */
export function openAiWriter(shape: OpenAiShape, accepted: OpenAiAccepted, meta: { requestId: string; createdAt: number }): AnswerWriter {
  const { request } = accepted;
  const chatLike = shape !== 'text';
  const id = `${chatLike ? 'chatcmpl' : 'cmpl'}-${meta.requestId}`;
  const object = chatLike ? 'chat.completion' : 'text_completion';
  const chunkObject = chatLike ? 'chat.completion.chunk' : 'text_completion';
  const scanner = new StopScanner(request.stop);
  const base = (model: string) => ({ id, object: chunkObject, created: meta.createdAt, model });
  const usageField = accepted.includeUsage ? { usage: null } : {};
  const requestedModel = request.model_id ?? 'default';

  const piece = (text: string, model: string, finish: 'stop' | 'length' | null, first = false): string => {
    const choice = chatLike
      ? {
          index: 0,
          // FIM clients (Continue) read `delta.content` of every chunk, so it is never left out there.
          delta: first ? { role: 'assistant', content: text } : text !== '' || shape === 'fim' ? { content: text } : {},
          logprobs: null,
          finish_reason: finish,
        }
      : { text, index: 0, logprobs: null, finish_reason: finish };
    return sse({ ...base(model), choices: [choice], ...usageField });
  };

  return {
    json: (answer) => {
      const finish = finishReason(answer, request);
      const choice = chatLike
        ? { index: 0, message: { role: 'assistant', content: answer.text }, logprobs: null, finish_reason: finish }
        : { text: answer.text, index: 0, logprobs: null, finish_reason: finish };
      return { id, object, created: meta.createdAt, model: answer.modelUsed, choices: [choice], usage: usageOf(answer, accepted.promptText) };
    },
    open: () => (chatLike ? piece('', requestedModel, null, true) : ''),
    frame: (frame) => {
      if (frame.type !== 'delta') return '';
      const safe = scanner.push(frame.text);
      return safe === '' ? '' : piece(safe, requestedModel, null);
    },
    complete: (answer) => {
      const rest = scanner.rest(answer.text);
      const usage = accepted.includeUsage ? sse({ ...base(answer.modelUsed), choices: [], usage: usageOf(answer, accepted.promptText) }) : '';
      return (rest === '' ? '' : piece(rest, answer.modelUsed, null)) + piece('', answer.modelUsed, finishReason(answer, request)) + usage + DONE;
    },
    error: (error) => sse(openAiErrorBody(error)) + DONE,
  };
}
