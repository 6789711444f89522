import { afterEach, describe, expect, it } from 'vitest';
import { CSV_COLUMNS, csvField, renderCsvChunks } from '../../../src/main/export/csv';
import { MetricsStore } from '../../../src/main/metrics/metricsStore';
import { tempDir } from '../../fixtures/tempDir';

let dir: ReturnType<typeof tempDir> | undefined;
let store: MetricsStore | undefined;
afterEach(() => {
  store?.close();
  dir?.cleanup();
});

async function collect(chunks: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

describe('csvField', () => {
  it('quotes what RFC 4180 requires', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField(1.5)).toBe('1.5');
    expect(csvField(Number.NaN)).toBe('');
    expect(csvField(false)).toBe('false');
  });

  it('defuses text a spreadsheet would run as a formula', () => {
    expect(csvField('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField(-3)).toBe('-3');
  });
});

describe('renderCsvChunks', () => {
  it('writes a header and one line per event, oldest first, in chunks, with progress', async () => {
    dir = tempDir();
    store = MetricsStore.open({ path: dir.file('m.db') });
    const now = Date.now() / 1000;
    for (let i = 0; i < 25; i += 1) {
      store.record({
        endpoint: i % 2 ? 'infill' : 'generate/stream',
        modelId: i === 3 ? '=cmd|calc' : 'dream',
        userId: 'u',
        startedAt: now - 100 + i,
        duration: 0.5,
        requestId: `r${i}`,
        status: i === 4 ? 504 : 200,
        ...(i === 4 ? { errorType: 'timeout' as const } : { outputText: 'hello world, again' }),
        params: { temperature: 0.2 },
      });
    }
    const progress: Array<[number, number]> = [];
    const chunks = await collect(renderCsvChunks(store, { chunkRows: 10, onProgress: (rows, total) => progress.push([rows, total]) }));
    const lines = chunks.join('').trimEnd().split('\r\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(26);
    expect(progress.at(-1)).toEqual([25, 25]);
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    const rows = lines.slice(1).map((line) => line.split(','));
    const column = (name: (typeof CSV_COLUMNS)[number]): number => CSV_COLUMNS.indexOf(name);
    expect(rows.map((r) => Number(r[column('id')]))).toEqual([...Array(25).keys()].map((i) => i + 1));
    expect(rows[3]?.[column('model_id')]).toBe("'=cmd|calc");
    expect(rows[4]?.[column('success')]).toBe('false');
    expect(rows[4]?.[column('error_type')]).toBe('timeout');
    expect(rows[0]?.[column('endpoint')]).toBe('generate/stream');

    const recent = await collect(renderCsvChunks(store, { since: now - 80 }));
    expect(recent.join('').trimEnd().split('\r\n')).toHaveLength(1 + 5);
  });
});
