/**
 * Fill-in-the-middle templates that editors put inside a plain `/v1/completions` prompt, as
 * Zed (`crates/edit_prediction/src/fim.rs`, `format_fim_prompt`) and Continue
 * (`core/autocomplete/templating/AutocompleteTemplate.ts`) write them. A diffusion model fills
 * a gap natively, so a templated prompt is turned back into its prefix and suffix.
 */
export type FimTemplateName = 'qwen' | 'starcoder' | 'codellama' | 'deepseek' | 'codestral' | 'glm';

export interface RecognisedFim {
  template: FimTemplateName;
  prefix: string;
  suffix: string;
}

/** Prefix-suffix-middle templates: `<begin>prefix<hole>suffix<end>`, the end marker closing the prompt. */
const PSM_TEMPLATES: ReadonlyArray<{ name: FimTemplateName; begin: string; hole: string; end: string }> = [
  // Qwen2.5-Coder, CodeGemma (Zed's Qwen/CodeGemma formats, Continue's qwenCoderFimTemplate).
  { name: 'qwen', begin: '<|fim_prefix|>', hole: '<|fim_suffix|>', end: '<|fim_middle|>' },
  // StarCoder, StableCode: Continue's default template and Zed's StarCoder format.
  { name: 'starcoder', begin: '<fim_prefix>', hole: '<fim_suffix>', end: '<fim_middle>' },
  // DeepSeek Coder, with the full-width bars it was trained on and the ASCII ones some tools send.
  { name: 'deepseek', begin: '<｜fim▁begin｜>', hole: '<｜fim▁hole｜>', end: '<｜fim▁end｜>' },
  { name: 'deepseek', begin: '<|fim▁begin|>', hole: '<|fim▁hole|>', end: '<|fim▁end|>' },
  // GLM-4 (Zed's Glm format).
  { name: 'glm', begin: '<|code_prefix|>', hole: '<|code_suffix|>', end: '<|code_middle|>' },
];

function psm(prompt: string, t: (typeof PSM_TEMPLATES)[number]): RecognisedFim | null {
  const body = prompt.trimEnd();
  if (!body.endsWith(t.end)) return null;
  const begin = prompt.indexOf(t.begin);
  const hole = prompt.indexOf(t.hole, begin + t.begin.length);
  if (begin < 0 || hole < 0 || hole > body.length - t.end.length) return null;
  // Whatever precedes the first marker (repository context, file names) is text before the gap too.
  const prefix = prompt.slice(0, begin) + prompt.slice(begin + t.begin.length, hole);
  return { template: t.name, prefix, suffix: body.slice(hole + t.hole.length, body.length - t.end.length) };
}

/** CodeLlama: `<PRE> {prefix} <SUF>{suffix} <MID>`; the spaces around the markers are the template's. */
function codellama(prompt: string): RecognisedFim | null {
  const body = prompt.trimEnd();
  if (!body.endsWith('<MID>')) return null;
  const begin = prompt.indexOf('<PRE>');
  const hole = prompt.indexOf('<SUF>', begin + 5);
  if (begin < 0 || hole < 0) return null;
  let prefix = prompt.slice(begin + 5, hole);
  if (prefix.startsWith(' ')) prefix = prefix.slice(1);
  if (prefix.endsWith(' ')) prefix = prefix.slice(0, -1);
  let suffix = body.slice(hole + 5, body.length - 5);
  if (suffix.endsWith(' ')) suffix = suffix.slice(0, -1);
  return { template: 'codellama', prefix: prompt.slice(0, begin) + prefix, suffix };
}

/** Codestral (suffix first): `[SUFFIX]{suffix}[PREFIX]{prefix}`, the prefix running to the end. */
function codestral(prompt: string): RecognisedFim | null {
  const hole = prompt.indexOf('[SUFFIX]');
  const begin = prompt.indexOf('[PREFIX]', hole + 8);
  if (hole < 0 || begin < 0) return null;
  return { template: 'codestral', prefix: prompt.slice(begin + 8), suffix: prompt.slice(hole + 8, begin) };
}

/** The template a prompt carries, with its prefix and suffix; null for a plain prompt. */
export function recogniseFimTemplate(prompt: string): RecognisedFim | null {
  for (const template of PSM_TEMPLATES) {
    const found = prompt.includes(template.begin) ? psm(prompt, template) : null;
    if (found) return found;
  }
  if (prompt.includes('<PRE>')) {
    const found = codellama(prompt);
    if (found) return found;
  }
  if (prompt.includes('[SUFFIX]')) return codestral(prompt);
  return null;
}
