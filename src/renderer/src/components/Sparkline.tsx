import { createMemo } from 'solid-js';

/** A tiny SVG trend line for KPI tiles. Takes data only. */
export function Sparkline(props: { values: Array<number | null>; color: string }) {
  const path = createMemo(() => {
    const values = props.values.map((v) => v ?? 0);
    if (values.length < 2) return '';
    const max = Math.max(...values, 1e-9);
    const step = 100 / (values.length - 1);
    return values.map((v, i) => `${i === 0 ? 'M' : 'L'}${(i * step).toFixed(2)},${(28 - (v / max) * 26).toFixed(2)}`).join(' ');
  });
  return (
    <svg class="sparkline" viewBox="0 0 100 30" preserveAspectRatio="none" aria-hidden="true">
      <path d={path() ? `${path()} L100,30 L0,30 Z` : ''} fill={props.color} fill-opacity="0.1" stroke="none" />
      <path d={path()} fill="none" stroke={props.color} stroke-width="1.25" vector-effect="non-scaling-stroke" />
    </svg>
  );
}
