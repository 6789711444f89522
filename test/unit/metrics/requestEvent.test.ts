import { describe, expect, it } from 'vitest';
import { buildRequestEvent, estimateTokenCount, type RequestOutcome } from '../../../src/main/metrics/requestEvent';

const base: RequestOutcome = {
  endpoint: 'generate',
  modelId: 'dream',
  userId: 'u1',
  startedAt: 1_700_000_000.25,
  duration: 0.42,
  requestId: 'req-1',
  status: 200,
  params: { max_new_tokens: 64, temperature: 0.2, top_p: 0.9, alg: 'entropy' },
};

describe('estimateTokenCount (the seed: max(1, len(text) // 4))', () => {
  it.each([
    ['', 1],
    ['abc', 1],
    ['abcd', 1],
    ['abcdefgh', 2],
    ['x'.repeat(101), 25],
  ])('%j → %i', (text, expected) => {
    expect(estimateTokenCount(text)).toBe(expected);
  });

  it('counts code points like Python, not UTF-16 units', () => {
    // 8 emoji are 16 UTF-16 units but 8 code points → 2 tokens, as Python's len() says.
    expect(estimateTokenCount('😀'.repeat(8))).toBe(2);
  });
});

describe('buildRequestEvent', () => {
  it('keeps our error message, capped at 500 characters, and the upstream status of a failure', () => {
    const long = `backend at http://x answered HTTP 500: ${'e'.repeat(600)}`;
    const { metadata } = buildRequestEvent({ ...base, status: 502, errorType: 'backend', errorMessage: long, upstreamStatus: 500 });
    expect(Array.from(metadata.error_message ?? '')).toHaveLength(500);
    expect(metadata.error_message?.startsWith('backend at http://x answered HTTP 500')).toBe(true);
    expect(metadata.upstream_status).toBe(500);
    const ok = buildRequestEvent({ ...base, outputText: 'fine', errorMessage: 'ignored' }).metadata;
    expect(ok).not.toHaveProperty('error_message');
    expect(ok).not.toHaveProperty('upstream_status');
  });

  it('produces the seed row and metadata for a success', () => {
    const { row, metadata } = buildRequestEvent({
      ...base,
      outputText: 'x'.repeat(100),
      generationTime: 0.02,
      steps: 32,
      timeToFirstStep: 0.05,
      backend: 'dllm',
    });
    expect(row).toEqual({
      model_id: 'dream',
      user_id: 'u1',
      event_type: 'diffusion_generate',
      duration: 0.42,
      timestamp: 1_700_000_000.25,
      metadata: row.metadata,
    });
    expect(JSON.parse(row.metadata)).toEqual({
      token_count: 25,
      max_new_tokens: 64,
      temperature: 0.2,
      top_p: 0.9,
      alg: 'entropy',
      generation_time: 0.02,
      success: true,
      error_type: null,
      status: 200,
      steps: 32,
      time_to_first_step: 0.05,
      backend: 'dllm',
      request_id: 'req-1',
      token_count_source: 'estimate',
      api: 'diffusion',
    });
    expect(metadata.token_count).toBe(25);
  });

  it('stores a reported token count instead of the estimate', () => {
    const { metadata } = buildRequestEvent({ ...base, outputText: 'x'.repeat(100), reportedTokenCount: 31 });
    expect(metadata.token_count).toBe(31);
    expect(metadata.token_count_source).toBe('backend');
  });

  it('maps each endpoint to its event type', () => {
    expect(buildRequestEvent({ ...base, endpoint: 'infill/stream' }).row.event_type).toBe('diffusion_infill_stream');
    expect(buildRequestEvent({ ...base, endpoint: 'generate/stream' }).row.event_type).toBe('diffusion_generate_stream');
    expect(buildRequestEvent({ ...base, endpoint: 'infill' }).row.event_type).toBe('diffusion_infill');
  });

  it('records a failure with its error type and zero tokens when nothing was generated', () => {
    const { metadata, sample } = buildRequestEvent({ ...base, status: 504, errorType: 'timeout' });
    expect(metadata).toMatchObject({ success: false, error_type: 'timeout', status: 504, token_count: 0 });
    expect(sample).toMatchObject({ success: false, errorType: 'timeout', tokens: 0 });
  });

  it('never stores the prompt or the output', () => {
    const { row } = buildRequestEvent({ ...base, outputText: 'SECRET OUTPUT TEXT' });
    expect(JSON.stringify(row)).not.toContain('SECRET');
  });
});
