import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BuiltinBackend } from '../../../../src/main/backend/builtin/builtinBackend';
import { readModelFiles, sha256File } from '../../../../src/main/backend/builtin/modelManifest';
import { CHECKOUT_MODEL_DIR } from '../../../../src/main/config';
import { failureOf, generateRequest } from '../../../fixtures/backendHarness';
import { tempDir } from '../../../fixtures/tempDir';

const dirs: Array<ReturnType<typeof tempDir>> = [];
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

describe('the shipped model files', () => {
  const files = readModelFiles(CHECKOUT_MODEL_DIR);

  it('has an ONNX file whose sha256 is the one model.json records, within 10 MB', () => {
    expect(files.manifest.onnx?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(sha256File(files.onnxPath)).toBe(files.manifest.onnx?.sha256);
    expect(statSync(files.onnxPath).size).toBeLessThanOrEqual(10 * 1024 * 1024);
  });

  it('has what inference needs: a vocabulary with mask and pad, a context length', () => {
    const { manifest } = files;
    expect(manifest.vocab[manifest.mask_id]).toBe('<|mask|>');
    expect(manifest.context_length).toBeGreaterThanOrEqual(160);
    expect(manifest.name).toBe('dm-builtin-pystdlib');
  });

  it('is refused, as model_unavailable, when the ONNX file does not match its hash', async () => {
    const dir = tempDir();
    dirs.push(dir);
    copyFileSync(files.onnxPath, join(dir.path, 'builtin.onnx'));
    const manifest = JSON.parse(readFileSync(join(CHECKOUT_MODEL_DIR, 'model.json'), 'utf8')) as { onnx: { sha256: string } };
    manifest.onnx.sha256 = '0'.repeat(64);
    writeFileSync(join(dir.path, 'model.json'), JSON.stringify(manifest));
    const backend = new BuiltinBackend({ modelDir: dir.path, timeoutSeconds: 30 });
    try {
      const error = await failureOf(backend.run(generateRequest({ max_new_tokens: 4 }), { signal: new AbortController().signal }));
      expect(error.type).toBe('model_unavailable');
      expect(error.message).toMatch(/sha256 .* model\.json says 0{64}/);
    } finally {
      await backend.close();
    }
  });

  it('says what is wrong with a broken model.json', async () => {
    const dir = tempDir();
    dirs.push(dir);
    writeFileSync(join(dir.path, 'model.json'), JSON.stringify({ name: 'x', vocab: ['a', 'b'], mask_id: 1, pad_id: 1, context_length: 8 }));
    expect(() => readModelFiles(dir.path)).toThrow(/mask_id and pad_id must be two different ids/);
  });
});
