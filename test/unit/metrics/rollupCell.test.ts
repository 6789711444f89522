import { describe, expect, it } from 'vitest';
import type { EventSample } from '../../../src/main/metrics/eventSample';
import { RollupCell } from '../../../src/main/metrics/rollupCell';

function sample(i: number): EventSample {
  return {
    eventType: 'diffusion_generate',
    modelId: 'dream',
    duration: 0.01 * 1.05 ** (i % 90),
    timestamp: 1_700_000_000 + i,
    success: i % 9 !== 0,
    errorType: i % 9 === 0 ? 'backend' : null,
    tokens: i % 50,
    generationTime: 0.1,
    steps: 32,
    timeToFirstStep: i % 3 === 0 ? null : 0.02 + (i % 13) / 100,
  };
}

function cellOf(from: number, to: number): RollupCell {
  const cell = new RollupCell();
  for (let i = from; i < to; i += 1) cell.add(sample(i));
  return cell;
}

const QUANTILES = [0, 0.5, 0.95, 0.99, 1];
const quantilesOf = (cell: RollupCell): number[][] => [
  QUANTILES.map((q) => cell.latency.getValueAtQuantile(q)),
  QUANTILES.map((q) => cell.ttfs.getValueAtQuantile(q)),
];

describe('RollupCell.freeze', () => {
  it('answers, serialises and merges exactly like the live cell', () => {
    const live = cellOf(0, 400);
    const frozen = cellOf(0, 400);
    frozen.freeze();
    expect(frozen.frozen).toBe(true);
    expect(quantilesOf(frozen)).toEqual(quantilesOf(live));
    expect(frozen.toRow()).toEqual(live.toRow());

    const intoLive = cellOf(400, 500);
    const intoFrozen = cellOf(400, 500);
    intoLive.merge(live);
    intoFrozen.merge(frozen);
    expect(quantilesOf(intoFrozen)).toEqual(quantilesOf(intoLive));
    expect(intoFrozen.toRow()).toEqual(intoLive.toRow());
  });

  it('thaws when an event lands, keeping what it held', () => {
    const whole = cellOf(0, 300);
    const cell = cellOf(0, 200);
    cell.freeze();
    for (let i = 200; i < 300; i += 1) cell.add(sample(i));
    expect(cell.frozen).toBe(false);
    expect(quantilesOf(cell)).toEqual(quantilesOf(whole));
    expect(cell.toRow()).toEqual(whole.toRow());
  });

  it('reads stored rows frozen, and they merge like the cells they came from', () => {
    const original = cellOf(0, 250);
    const stored = RollupCell.fromRow(original.toRow());
    expect(stored.frozen).toBe(true);
    const a = new RollupCell();
    const b = new RollupCell();
    a.merge(original);
    b.merge(stored);
    expect(quantilesOf(b)).toEqual(quantilesOf(a));
    expect(b.toRow()).toEqual(a.toRow());
  });

  it('reads a row with a damaged sketch as an empty sketch instead of failing', () => {
    const row = JSON.parse(cellOf(0, 10).toRow().data) as Record<string, unknown>;
    row.ls = ['not', 'numbers'];
    const cell = RollupCell.fromRow({ data: JSON.stringify(row) });
    expect(cell.counters.requests).toBe(10);
    expect(cell.latency.count).toBe(0);
  });
});
