import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { excerpt, httpStatusError, parseErrorBody, toUpstreamError, upstreamErrorType } from '../../../src/main/backend/upstreamErrors';
import { DiffusionError } from '../../../src/shared/errors';

const URL = 'http://127.0.0.1:8000/api/diffusion/generate/stream';
const withCode = (code: string, message = 'boom'): Error => Object.assign(new Error(message), { code });

describe('toUpstreamError', () => {
  it.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT'])('maps %s to network', (code) => {
    const error = toUpstreamError(withCode(code), URL);
    expect(error.type).toBe('network');
    expect(error.message).toContain(code);
    expect(error.message).toContain(URL);
  });

  it('finds the code inside an AggregateError from a happy-eyeballs connect', () => {
    const aggregate = new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], 'connect failed');
    expect(toUpstreamError(aggregate, URL).type).toBe('network');
  });

  it('finds the code in the cause chain', () => {
    const wrapped = new Error('fetch failed', { cause: withCode('ENOTFOUND') });
    expect(toUpstreamError(wrapped, URL).type).toBe('network');
  });

  it('keeps a DiffusionError as it is', () => {
    const original = new DiffusionError('timeout', 'slow');
    expect(toUpstreamError(original, URL)).toBe(original);
  });

  it('turns anything else into backend and never lets a raw error through', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.string().map((code) => withCode(code)),
        ),
        (thrown) => {
          const error = toUpstreamError(thrown, URL);
          expect(error).toBeInstanceOf(DiffusionError);
          expect(['network', 'backend']).toContain(error.type);
        },
      ),
    );
  });
});

describe('httpStatusError', () => {
  it('keeps a known taxonomy type from the body', () => {
    const error = httpStatusError(503, JSON.stringify({ error: { type: 'model_unavailable', message: 'no model loaded' } }), URL);
    expect(error.type).toBe('model_unavailable');
    expect(error.message).toContain('HTTP 503: no model loaded');
    expect(error.details).toMatchObject({ upstream_status: 503 });
  });

  it('treats the upstream internal and cancelled types, and foreign ones, as backend', () => {
    expect(upstreamErrorType('internal')).toBe('backend');
    expect(upstreamErrorType('cancelled')).toBe('backend');
    expect(upstreamErrorType('invalid_request_error')).toBe('backend');
    expect(upstreamErrorType(42)).toBe('backend');
    expect(upstreamErrorType('timeout')).toBe('timeout');
  });

  it('excerpts a non-JSON body', () => {
    const error = httpStatusError(502, `<html>${'Bad gateway '.repeat(100)}</html>`, URL);
    expect(error.type).toBe('backend');
    expect(error.message.length).toBeLessThan(URL.length + 260);
  });

  it('uses the classifier when the body names no known type', () => {
    const error = httpStatusError(404, '{"error":{"message":"The model x does not exist","code":"model_not_found"}}', URL, (status, body) =>
      status === 404 && body.code === 'model_not_found' ? 'model_unavailable' : 'backend',
    );
    expect(error.type).toBe('model_unavailable');
  });
});

describe('parseErrorBody and excerpt', () => {
  it('read the shapes servers use', () => {
    expect(parseErrorBody('{"error":{"type":"backend","message":"m","code":500}}')).toEqual({ type: 'backend', message: 'm', code: '500' });
    expect(parseErrorBody('{"error":"plain"}')).toEqual({ message: 'plain' });
    expect(parseErrorBody('{"detail":"Not Found"}')).toEqual({ message: 'Not Found' });
    expect(parseErrorBody('not json')).toEqual({});
  });

  it('never throw and keep excerpts short and on one line', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), (text) => {
        parseErrorBody(text);
        const short = excerpt(text);
        expect(short.length).toBeLessThanOrEqual(201);
        expect(short).not.toMatch(/[\r\n]/);
      }),
    );
  });
});
