import { describe, expect, it } from 'vitest';
import { recogniseFimTemplate } from '../../../../src/main/server/openai/fimTemplates';
import { ZED_FORMATS } from '../../../fixtures/editors/editorRequests';

const prefix = 'def add(a, b):\n    ';
const suffix = '\n\nprint(add(1, 2))\n';

describe('fill-in-the-middle templates inside a completions prompt', () => {
  it.each([
    ['Qwen', 'qwen'],
    ['CodeLlama', 'codellama'],
    ['DeepseekCoder', 'deepseek'],
    ['Codestral', 'codestral'],
    ['StarCoder', 'starcoder'],
  ] as const)('gives back the exact prefix and suffix of Zed’s %s format', (format, template) => {
    expect(recogniseFimTemplate(ZED_FORMATS[format].prompt(prefix, suffix))).toEqual({ template, prefix, suffix });
  });

  it('keeps text before the first marker (repository context) as part of the prefix, and tolerates a trailing newline', () => {
    const prompt = `<|repo_name|>calc\n<|fim_prefix|>${prefix}<|fim_suffix|>${suffix}<|fim_middle|>\n`;
    expect(recogniseFimTemplate(prompt)).toEqual({ template: 'qwen', prefix: `<|repo_name|>calc\n${prefix}`, suffix });
  });

  it('reads DeepSeek’s template with ASCII bars, and GLM’s', () => {
    expect(recogniseFimTemplate(`<|fim▁begin|>${prefix}<|fim▁hole|>${suffix}<|fim▁end|>`)).toMatchObject({ template: 'deepseek', prefix, suffix });
    expect(recogniseFimTemplate(`<|code_prefix|>${prefix}<|code_suffix|>${suffix}<|code_middle|>`)).toMatchObject({ template: 'glm', prefix, suffix });
  });

  it('leaves plain prompts and broken templates alone', () => {
    expect(recogniseFimTemplate('Write a haiku about diffusion.')).toBeNull();
    // The middle marker must close the prompt: text after it is not a gap to fill.
    expect(recogniseFimTemplate(`<|fim_prefix|>${prefix}<|fim_suffix|>${suffix}<|fim_middle|>return`)).toBeNull();
    expect(recogniseFimTemplate(`<fim_prefix>${prefix}<fim_middle>`)).toBeNull();
    expect(recogniseFimTemplate('[SUFFIX] only a suffix')).toBeNull();
  });
});
