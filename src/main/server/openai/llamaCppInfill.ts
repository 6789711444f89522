import { z } from 'zod';
import { DiffusionError } from '../../../shared/errors';
import { DEFAULTS, LIMITS } from '../../../shared/requests';
import { estimateTokenCount } from '../../metrics/requestEvent';
import { validationError } from '../errorReplies';
import type { AcceptedRequest, Answer, AnswerWriter, Door } from '../requestLifecycle';
import { optionsOf } from './openAiRequests';
import { StopScanner } from '../stopScanner';

/**
 * llama.cpp's `POST /infill`, as llama.vim and llama.vscode send it (`input_prefix`,
 * `input_suffix`, `input_extra`, `prompt`, `n_predict`, `stream`, plus sampler settings we
 * ignore), answered as llama-server does: a flat object with `content`, `stop` and `timings`,
 * and in a stream `data: {"content": …, "stop": false}` lines, the last with `stop: true` and no
 * `[DONE]` after it (llama.cpp `tools/server/README.md`, `/completion` and `/infill`).
 */

const text = z.string().max(LIMITS.textChars, `must be at most ${LIMITS.textChars} characters`);

const InfillBodySchema = z
  .object({
    input_prefix: text.nullish(),
    input_suffix: text.nullish(),
    // llama.vscode's chunks also carry `time`; llama.vim's carry `filename` and `text`.
    input_extra: z
      .array(z.object({ filename: z.string().max(1000).nullish(), text: text.nullish() }).passthrough())
      .max(1000)
      .nullish(),
    prompt: text.nullish(),
    // -1 is llama.cpp's "until end of stream"; 0 only warms the cache.
    n_predict: z.number().int().min(-1).nullish(),
    model: z.string().regex(LIMITS.modelId, 'must be 1-200 characters of letters, digits and ._:/@+-').nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    top_k: z.number().int().min(-1).max(100_000).nullish(),
    stop: z.array(z.string().max(LIMITS.stopChars)).max(LIMITS.stopSequences).nullish(),
    seed: z.number().int().nullish(),
    stream: z.boolean().nullish(),
  })
  .passthrough();

export interface LlamaInfillAccepted extends AcceptedRequest {
  promptText: string;
}

/** Extra files as context before the prefix, each under a header naming it. */
function extraContext(extra: ReadonlyArray<{ filename?: string | null | undefined; text?: string | null | undefined }>): string {
  return extra.map((chunk) => `--- ${chunk.filename ?? 'context'} ---\n${chunk.text ?? ''}${chunk.text?.endsWith('\n') ? '' : '\n'}\n`).join('');
}

function readInfill(body: unknown): LlamaInfillAccepted {
  const parsed = InfillBodySchema.safeParse(body);
  if (!parsed.success) throw validationError(parsed.error, 'body', InfillBodySchema);
  const b = parsed.data;
  // `prompt` is the text of the gap already typed (the cursor line up to the cursor): part of the prefix.
  const prefix = extraContext(b.input_extra ?? []) + (b.input_prefix ?? '') + (b.prompt ?? '');
  const suffix = b.input_suffix ?? '';
  if (prefix.length + suffix.length > LIMITS.textChars) {
    const message = `input_prefix, input_suffix, input_extra and prompt must be at most ${LIMITS.textChars} characters in all`;
    throw new DiffusionError('validation', message, { details: [{ field: 'input_prefix', message }] });
  }
  const nPredict = b.n_predict ?? DEFAULTS.max_new_tokens;
  const options = optionsOf(
    {
      model: b.model ?? null,
      temperature: b.temperature ?? null,
      top_p: b.top_p === 0 ? null : (b.top_p ?? null),
      top_k: b.top_k ?? null,
      stop: b.stop ?? null,
      seed: b.seed !== undefined && b.seed !== null && b.seed >= 0 ? b.seed : null,
    },
    nPredict <= 0 ? DEFAULTS.max_new_tokens : nPredict,
  );
  return {
    request: { kind: 'infill', prefix, suffix, ...options },
    stream: b.stream === true,
    noGeneration: nPredict === 0,
    promptText: prefix + suffix,
  };
}

/** llama.cpp's error shape: `{error: {code, message, type}}`. */
function llamaErrorBody(error: DiffusionError): { error: { code: number; message: string; type: string } } {
  const type = error.status === 401 ? 'authentication_error' : error.status >= 500 ? 'server_error' : 'invalid_request_error';
  return { error: { code: error.status, message: error.message, type } };
}

function llamaWriter(accepted: LlamaInfillAccepted): AnswerWriter {
  const { request } = accepted;
  const promptTokens = accepted.promptText === '' ? 0 : estimateTokenCount(accepted.promptText);
  const final = (answer: Answer, content: string): Record<string, unknown> => {
    const stopType = answer.stoppedBy !== null ? 'word' : answer.tokenCount >= request.max_new_tokens ? 'limit' : 'eos';
    const predictedMs = answer.generationTime * 1000;
    return {
      content,
      id_slot: 0,
      stop: true,
      model: answer.modelUsed,
      tokens_predicted: answer.tokenCount,
      tokens_evaluated: promptTokens,
      generation_settings: {
        n_predict: accepted.noGeneration ? 0 : request.max_new_tokens,
        temperature: request.temperature,
        top_k: request.top_k ?? 0,
        top_p: request.top_p,
        seed: request.seed ?? -1,
        stop: request.stop ?? [],
      },
      prompt: '',
      has_new_line: answer.text.includes('\n'),
      truncated: false,
      stop_type: stopType,
      stopping_word: answer.stoppedBy ?? '',
      tokens_cached: 0,
      timings: {
        prompt_n: promptTokens,
        prompt_ms: 0,
        prompt_per_token_ms: 0,
        prompt_per_second: 0,
        predicted_n: answer.tokenCount,
        predicted_ms: predictedMs,
        predicted_per_token_ms: answer.tokenCount > 0 ? predictedMs / answer.tokenCount : 0,
        predicted_per_second: predictedMs > 0 ? (answer.tokenCount * 1000) / predictedMs : 0,
      },
    };
  };
  const line = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;
  const scanner = new StopScanner(request.stop);
  let released = '';
  return {
    json: (answer) => final(answer, answer.text),
    open: () => '',
    frame: (frame) => {
      if (frame.type !== 'delta') return '';
      const safe = scanner.push(frame.text);
      if (safe === '') return '';
      released += safe;
      return line({
        index: 0,
        content: safe,
        tokens: [],
        stop: false,
        id_slot: 0,
        tokens_predicted: estimateTokenCount(released),
        tokens_evaluated: promptTokens,
      });
    },
    complete: (answer) => line({ index: 0, ...final(answer, scanner.rest(answer.text)) }),
    error: (error) => line(llamaErrorBody(error)),
  };
}

/** The `/infill` door. */
export const llamaCppInfillDoor: Door<LlamaInfillAccepted> = {
  api: 'llamacpp_infill',
  endpointOf: (body) => ((body as { stream?: unknown } | null)?.stream === true ? 'infill/stream' : 'infill'),
  accept: readInfill,
  errorBody: (error) => llamaErrorBody(error),
  writer: (accepted) => llamaWriter(accepted),
};
