import { describe, expect, it } from 'vitest';
import { StopScanner } from '../../../src/main/server/stopScanner';
import { renderChatPrompt } from '../../../src/main/server/openai/openAiRequests';
import { answerOf, cutAtStop } from '../../../src/main/server/requestLifecycle';
import type { DiffusionRequest } from '../../../src/shared/requests';

const request: DiffusionRequest = {
  kind: 'generate',
  prompt: 'x',
  model_id: 'm',
  max_new_tokens: 64,
  steps: 16,
  temperature: 0.2,
  top_p: 0.9,
  top_k: null,
  alg: 'entropy',
  alg_temp: null,
  user_id: 'anonymous',
  stop: null,
  seed: null,
};

describe('the numbers a finished request answers with and stores', () => {
  const progress = { backendSeconds: 0.5, stepCount: 0, timeToFirstStep: null };

  it('takes the backend’s count, time and steps when it reports them', () => {
    const answer = answerOf({ text: 'hello world', modelUsed: 'm', tokenCount: 3, generationTime: 0.2, steps: 8, timeToFirstStep: 0.01 }, progress, request);
    expect(answer).toEqual({
      text: 'hello world',
      modelUsed: 'm',
      tokenCount: 3,
      tokenCountSource: 'backend',
      generationTime: 0.2,
      steps: 8,
      timeToFirstStep: 0.01,
      stoppedBy: null,
    });
  });

  it('falls back to the estimate, our own timing, counted steps, then the requested steps', () => {
    expect(answerOf({ text: 'x'.repeat(40), modelUsed: 'm' }, { ...progress, stepCount: 5 }, request)).toMatchObject({
      tokenCount: 10,
      tokenCountSource: 'estimate',
      generationTime: 0.5,
      steps: 5,
    });
    expect(answerOf({ text: 'x', modelUsed: 'm' }, progress, request).steps).toBe(16);
  });

  it('cuts at the earliest stop sequence and estimates the kept text instead of trusting the backend’s count of the whole', () => {
    const answer = answerOf({ text: 'abcd<|endoftext|>more\n\nrest', modelUsed: 'm', tokenCount: 99 }, progress, {
      ...request,
      stop: ['\n\n', '<|endoftext|>'],
    });
    expect(answer).toMatchObject({ text: 'abcd', stoppedBy: '<|endoftext|>', tokenCount: 1, tokenCountSource: 'estimate' });
    expect(cutAtStop('abc', ['', 'z'])).toEqual({ text: 'abc', stoppedBy: null });
  });
});

describe('stop sequences in a stream', () => {
  it('holds back what could start a stop sequence and releases nothing after it', () => {
    const scanner = new StopScanner(['<|endoftext|>']);
    expect(scanner.push('return a')).toBe('return a');
    expect(scanner.push(' + b<|end')).toBe(' + b');
    expect(scanner.push('oftext|> garbage')).toBe('');
    expect(scanner.push('more')).toBe('');
    expect(scanner.rest('return a + b')).toBe('');
  });

  it('releases a held-back tail that turned out not to be a stop, and the final text when no deltas came', () => {
    const scanner = new StopScanner(['\n\n']);
    expect(scanner.push('a\n')).toBe('a');
    expect(scanner.push('b')).toBe('\nb');
    expect(new StopScanner(null).rest('all of it')).toBe('all of it');
  });
});

describe('chat messages as one prompt', () => {
  it('uses a lone user message as it is, and renders a conversation as turns ending with the assistant’s', () => {
    expect(renderChatPrompt([{ role: 'user', text: 'hi' }])).toBe('hi');
    expect(
      renderChatPrompt([
        { role: 'system', text: 'Be brief.' },
        { role: 'user', text: 'hi' },
      ]),
    ).toBe('System: Be brief.\n\nUser: hi\n\nAssistant:');
  });
});
