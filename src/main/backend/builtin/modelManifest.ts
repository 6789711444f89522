import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * `model.json` beside the ONNX file, written by `training/` (see MODEL_CONTRACT.md). Read
 * leniently: only what inference needs is required, everything else is kept as it came.
 */
const ManifestSchema = z
  .object({
    name: z.string().min(1),
    format_version: z.number().optional(),
    vocab: z.array(z.string()).min(2),
    mask_id: z.number().int().min(0),
    pad_id: z.number().int().min(0),
    special_text: z.object({ mask: z.string().optional(), pad: z.string().optional() }).passthrough().optional(),
    tokenizer: z.object({ type: z.string().optional(), unknown: z.string().optional() }).passthrough().optional(),
    context_length: z.number().int().min(2),
    parameters: z.number().optional(),
    onnx: z.object({ file: z.string().optional(), sha256: z.string().optional(), opset: z.number().optional() }).passthrough().optional(),
  })
  .passthrough()
  .refine((m) => m.mask_id < m.vocab.length && m.pad_id < m.vocab.length && m.mask_id !== m.pad_id, {
    message: 'mask_id and pad_id must be two different ids of the vocabulary',
  });

export type ModelManifest = z.infer<typeof ManifestSchema>;

/** What the canvas shows for a masked position (what the Playground draws as a mask). */
export const MASK_TEXT = '<|mask|>';

/** The built-in model's files, checked: the manifest, and where the ONNX graph is. */
export interface ModelFiles {
  dir: string;
  manifest: ModelManifest;
  onnxPath: string;
}

/** A model folder that cannot serve, with the reason in words. */
export class ModelFilesError extends Error {
  override name = 'ModelFilesError';
}

/** Reads and checks `model.json` in `dir`; does not read the ONNX file. */
export function readModelFiles(dir: string): ModelFiles {
  const manifestPath = join(dir, 'model.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    throw new ModelFilesError(`cannot read the built-in model's ${manifestPath}: ${(error as Error).message}`);
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelFilesError(`${manifestPath}: ${issue?.path.join('.') || 'value'} ${issue?.message ?? 'is invalid'}`);
  }
  return { dir, manifest: parsed.data, onnxPath: join(dir, parsed.data.onnx?.file ?? 'builtin.onnx') };
}

/** The hex sha256 of a file. */
export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
