import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKOUT_MODEL_DIR } from '../../../../src/main/config';

/** The README's model card must describe the model that ships, not an older one. */
const readme = readFileSync(join(CHECKOUT_MODEL_DIR, '..', '..', 'README.md'), 'utf8');
const start = readme.indexOf('## The built-in model');
const card = readme.slice(start, readme.indexOf('\n## ', start + 1));
const manifest = JSON.parse(readFileSync(join(CHECKOUT_MODEL_DIR, 'model.json'), 'utf8')) as {
  name: string;
  parameters: number;
  context_length: number;
  training: { steps: number };
  eval: { masked_accuracy: number; baseline_accuracy: number };
  samples: Array<{ output: string }>;
};

describe("the README's model card", () => {
  it('carries the shipped model’s numbers: parameters, context, steps, accuracy and baseline', () => {
    expect(start).toBeGreaterThan(0);
    expect(card).toContain(manifest.name);
    expect(card).toContain(manifest.parameters.toLocaleString('en'));
    expect(card).toContain(`${manifest.context_length} positions`);
    expect(card).toContain(`${manifest.training.steps.toLocaleString('en')} steps`);
    expect(card).toContain(`${manifest.eval.masked_accuracy.toFixed(3)} per character`);
    expect(card).toContain(`${manifest.eval.baseline_accuracy.toFixed(3)} per character`);
  });

  it('quotes every sample model.json records, verbatim', () => {
    expect(manifest.samples.length).toBeGreaterThan(0);
    for (const sample of manifest.samples) expect(card).toContain(`\n${sample.output}\n\`\`\``);
  });
});
