import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../fixtures/tempDir';

// Debian's interpreter: its python3-torch is the machine's only PyTorch (the CI installs it).
const PYTHON = '/usr/bin/python3';
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TRAIN = fileURLToPath(new URL('../../training/train.py', import.meta.url));
const SHIPPED = fileURLToPath(new URL('../../resources/model/', import.meta.url));

if (spawnSync(PYTHON, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status !== 0) {
  throw new Error('the integration suite needs PyTorch: apt-get install -y python3-torch libopenblas0-pthread');
}

/** The fields of model.json this test reads; parsed loosely, checked one by one below. */
interface ModelJson {
  name: string;
  format_version: number;
  vocab: string[];
  mask_id: number;
  pad_id: number;
  special_text: { mask: string; pad: string };
  tokenizer: { type: string; unknown: string };
  context_length: number;
  parameters: number;
  corpus: { python_version: string; files: number; chars: number; file_list_sha256: string };
  training: {
    smoke: boolean;
    steps: number;
    batch_size: number;
    seed: number;
    final_loss: number;
    seconds: number;
    loss_curve: string;
    segments: Array<{ from_step: number }>;
  };
  eval: { mask_rate: number; masked_tokens: number; masked_accuracy: number; masked_token_accuracy: number; baseline_accuracy: number };
  samples: Array<{ prompt: string; kind: string; params: Record<string, unknown>; output: string }>;
  meets_quality_bar: boolean;
  onnx: { file: string; sha256: string; opset: number };
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const readModelJson = (dir: string): ModelJson => JSON.parse(readFileSync(`${dir}/model.json`, 'utf8')) as ModelJson;

function run(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** The contract's required keys and their invariants, for any exported model. */
function expectContract(meta: ModelJson, dir: string): void {
  expect(meta.name).toBe('dm-builtin-pystdlib');
  expect(meta.format_version).toBe(1);
  expect(meta.vocab[meta.mask_id]).toBe(meta.special_text.mask);
  expect(meta.vocab[meta.pad_id]).toBe(meta.special_text.pad);
  expect(meta.mask_id).not.toBe(meta.pad_id);
  expect(meta.tokenizer.type).toBe('greedy-longest-match');
  expect(meta.vocab).toContain(meta.tokenizer.unknown);
  for (const ch of ['\n', '\t', ' ', 'a', 'Z', '_', '~']) expect(meta.vocab).toContain(ch);
  expect(meta.context_length).toBeGreaterThanOrEqual(160);
  expect(meta.onnx.sha256).toBe(sha256(`${dir}/${meta.onnx.file}`));
  expect(readFileSync(`${dir}/${meta.onnx.file}`).length).toBeLessThanOrEqual(10 * 1024 * 1024);
}

/** Runs the ONNX file as the app will: int64 tokens [batch, seq] in, float32 logits out. */
async function expectRuns(meta: ModelJson, dir: string): Promise<void> {
  const session = await ort.InferenceSession.create(`${dir}/${meta.onnx.file}`, { intraOpNumThreads: 1 });
  expect(session.inputNames).toEqual(['tokens']);
  expect(session.outputNames).toEqual(['logits']);
  for (const [batch, seq] of [
    [1, meta.context_length],
    [2, 50],
  ] as const) {
    const data = BigInt64Array.from({ length: batch * seq }, (_, i) => BigInt(i % 3 === 0 ? meta.mask_id : i % meta.vocab.length));
    const out = await session.run({ tokens: new ort.Tensor('int64', data, [batch, seq]) });
    const logits = out.logits;
    expect(logits?.type).toBe('float32');
    expect(logits?.dims).toEqual([batch, seq, meta.vocab.length]);
    expect(Array.from(logits?.data as Float32Array).every(Number.isFinite)).toBe(true);
  }
  await session.release();
}

describe('training smoke run: train 3 steps, evaluate, export', () => {
  const dir = tempDir('dm-train-it-');
  let result: { code: number | null; output: string };
  let meta: ModelJson;

  beforeAll(async () => {
    result = await run([TRAIN, '--smoke', '--out', dir.file('model'), '--run-dir', dir.file('run')]);
    if (result.code === 0) meta = readModelJson(dir.file('model'));
  }, 600_000);
  afterAll(() => dir.cleanup());

  it('exits 0 and writes the ONNX file and model.json in the contract format', () => {
    expect(result.code, result.output).toBe(0);
    expect(existsSync(dir.file('model/builtin.onnx'))).toBe(true);
    expectContract(meta, dir.file('model'));
  });

  it('records 3 smoke steps, a finite loss and a loss curve', () => {
    expect(meta.training.smoke).toBe(true);
    expect(meta.training.steps).toBe(3);
    expect(Number.isFinite(meta.training.final_loss)).toBe(true);
    expect(meta.training.final_loss).toBeGreaterThan(0);
    const rows = readFileSync(dir.file('run/loss.csv'), 'utf8').trim().split(/\r?\n/);
    expect(rows[0]).toBe('step,seconds,lr,loss,masked_ce,masked_acc,seq_len');
    expect(rows.slice(1).map((r) => Number(r.split(',')[0]))).toEqual([1, 2, 3]);
    for (const row of rows.slice(1)) expect(Number.isFinite(Number(row.split(',')[3]))).toBe(true);
  });

  it('ran the evaluation: held-out masked accuracy, baseline and samples at the default parameters', () => {
    expect(meta.eval.mask_rate).toBe(0.15);
    expect(meta.eval.masked_tokens).toBeGreaterThan(0);
    for (const v of [meta.eval.masked_accuracy, meta.eval.masked_token_accuracy, meta.eval.baseline_accuracy]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(meta.samples.map((s) => s.kind)).toEqual(['infill', 'generate', 'generate', 'generate']);
    for (const s of meta.samples) {
      expect(s.params).toMatchObject({ temperature: 0.2, top_p: 0.9, alg: 'entropy', max_new_tokens: 64 });
      expect(typeof s.output).toBe('string');
    }
    // Three steps cannot reach the bar; the file must say so rather than claim it.
    expect(meta.meets_quality_bar).toBe(false);
  });

  it('records the corpus: Python version, file count and the file list hash', () => {
    expect(meta.corpus.python_version).toMatch(/^3\.11\./);
    expect(meta.corpus.files).toBeGreaterThan(100);
    expect(meta.corpus.file_list_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('exports an ONNX graph that onnxruntime-node runs with dynamic batch and length', async () => {
    await expectRuns(meta, dir.file('model'));
  });
});

describe('training resumes from its checkpoint', () => {
  const dir = tempDir('dm-train-resume-');
  afterAll(() => dir.cleanup());

  it('continues at the checkpoint step and keeps one loss row per step', async () => {
    const args = ['--smoke', '--out', dir.file('model'), '--run-dir', dir.file('run')];
    const first = await run([TRAIN, ...args, '--max-steps', '2']);
    expect(first.code, first.output).toBe(0);
    const second = await run([TRAIN, ...args, '--max-steps', '3', '--resume']);
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain('resumed at step 2');
    const meta = readModelJson(dir.file('model'));
    expect(meta.training.steps).toBe(3);
    expect(meta.training.segments.map((s) => s.from_step)).toEqual([0, 2]);
    expect(meta.onnx.sha256).toBe(sha256(dir.file('model/builtin.onnx')));
    const rows = readFileSync(dir.file('run/loss.csv'), 'utf8').trim().split(/\r?\n/);
    expect(rows.slice(1).map((r) => Number(r.split(',')[0]))).toEqual([1, 2, 3]);
  }, 600_000);
});

describe('the release gate (training/release.py)', () => {
  const dir = tempDir('dm-train-gate-');
  afterAll(() => dir.cleanup());

  it('ships the latest checkpoint that met the bar when the final weights miss it, and a fresh run forgets it', async () => {
    const args = ['--smoke', '--out', dir.file('model'), '--run-dir', dir.file('run')];
    const first = await run([TRAIN, ...args, '--max-steps', '2']);
    expect(first.code, first.output).toBe(0);
    const atStep2 = readModelJson(dir.file('model'));
    // Three smoke steps never meet the bar, so the step-2 weights are kept with a verdict forged to pass.
    const plant = [
      'import json, sys, torch',
      "sys.path.insert(0, 'training')",
      'from model import DiffusionLM, ModelConfig',
      'from release import keep_if_passing',
      'run, out = sys.argv[1], sys.argv[2]',
      "c = torch.load(run + '/ckpt/last.pt')",
      "m = DiffusionLM(ModelConfig(**c['config'])); m.load_state_dict(c['model'])",
      "meta = json.load(open(out + '/model.json'))",
      "q = dict(meta['quality_bar'], meets_quality_bar=True)",
      "result = {'eval': meta['eval'], 'samples': meta['samples'], 'quality': q, 'extra_samples': []}",
      "assert keep_if_passing(run, m, c['config'], c['step'], c['elapsed'], result)",
    ].join('\n');
    const planted = await run(['-c', plant, dir.file('run'), dir.file('model')]);
    expect(planted.code, planted.output).toBe(0);
    expect(existsSync(dir.file('run/ckpt/gate.pt'))).toBe(true);

    const resumed = await run([TRAIN, ...args, '--max-steps', '3', '--resume']);
    expect(resumed.code, resumed.output).toBe(0);
    expect(resumed.output).toContain('the weights of step 2');
    const shipped = readModelJson(dir.file('model')) as ModelJson & {
      training: { shipped: { step: number; final_step: number; why: string } };
    };
    expect(shipped.training.steps).toBe(2);
    expect(shipped.training.shipped).toMatchObject({ step: 2, final_step: 3 });
    expect(shipped.training.shipped.why).toContain('latest checkpoint that met the quality bar');
    expect(shipped.meets_quality_bar).toBe(true);
    // The same weights export the same graph: the step-2 file, not the step-3 one.
    expect(shipped.onnx.sha256).toBe(atStep2.onnx.sha256);
    expect(sha256(dir.file('model/builtin.onnx'))).toBe(atStep2.onnx.sha256);

    const fresh = await run([TRAIN, ...args, '--max-steps', '1']);
    expect(fresh.code, fresh.output).toBe(0);
    expect(existsSync(dir.file('run/ckpt/gate.pt'))).toBe(false);
    expect(readModelJson(dir.file('model')).training.steps).toBe(1);
  }, 600_000);
});

describe('the shipped model (resources/model)', () => {
  it('matches its model.json and runs in onnxruntime-node', async () => {
    const shipped = readModelJson(SHIPPED);
    expectContract(shipped, SHIPPED);
    await expectRuns(shipped, SHIPPED);
  });
});
