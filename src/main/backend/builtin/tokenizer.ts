import type { ModelManifest } from './modelManifest';
import { MASK_TEXT } from './modelManifest';

/**
 * The built-in model's tokenizer (MODEL_CONTRACT.md, `greedy-longest-match`): at each position
 * the longest vocabulary entry that matches, special tokens excluded; a character no entry
 * matches becomes the `unknown` text's token.
 */
export class Tokenizer {
  readonly vocab: readonly string[];
  readonly maskId: number;
  readonly padId: number;
  private readonly byText = new Map<string, number>();
  private readonly longest: number;
  private readonly unknownId: number;
  private readonly padText: string;

  constructor(manifest: Pick<ModelManifest, 'vocab' | 'mask_id' | 'pad_id' | 'tokenizer' | 'special_text'>) {
    this.vocab = manifest.vocab;
    this.maskId = manifest.mask_id;
    this.padId = manifest.pad_id;
    this.padText = manifest.special_text?.pad ?? '';
    let longest = 1;
    manifest.vocab.forEach((text, id) => {
      if (id === this.maskId || id === this.padId || text.length === 0) return;
      if (!this.byText.has(text)) this.byText.set(text, id);
      longest = Math.max(longest, text.length);
    });
    this.longest = longest;
    const unknown = manifest.tokenizer?.unknown ?? ' ';
    this.unknownId = this.byText.get(unknown) ?? this.byText.get(' ') ?? this.byText.values().next().value ?? 0;
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    let at = 0;
    while (at < text.length) {
      let id = -1;
      let length = 1;
      for (let len = Math.min(this.longest, text.length - at); len >= 1; len -= 1) {
        const found = this.byText.get(text.slice(at, at + len));
        if (found !== undefined) {
          id = found;
          length = len;
          break;
        }
      }
      ids.push(id === -1 ? this.unknownId : id);
      at += length;
    }
    return ids;
  }

  /** Text of ids: masks as `<|mask|>`, the pad/end token as its (usually empty) text. */
  decode(ids: ArrayLike<number>, from = 0, to = ids.length): string {
    let out = '';
    for (let i = from; i < to; i += 1) out += this.textOf(ids[i] as number);
    return out;
  }

  private textOf(id: number): string {
    if (id === this.maskId) return MASK_TEXT;
    if (id === this.padId) return this.padText;
    return this.vocab[id] ?? '';
  }
}
