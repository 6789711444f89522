/** What the chart components compute from their data: pure, unit-tested under Node. */

/** With this few values a line is a handful of dots: draw each one, or nothing shows. */
const FEW_POINTS = 12;

/**
 * Marker radius per point: every value when a line has few, and any value whose neighbours are
 * empty (a single busy minute between idle ones), which a line alone cannot show.
 */
export function pointRadii(data: ReadonlyArray<number | null>): number[] {
  const present = data.filter((v) => v !== null).length;
  return data.map((v, i) => {
    if (v === null) return 0;
    if (present <= FEW_POINTS) return 3;
    const lonely = (data[i - 1] ?? null) === null && (data[i + 1] ?? null) === null;
    return lonely ? 3 : 0;
  });
}

/** "timeout · 12 (40%)": a doughnut's legend says how many and what share, not only the colour. */
export function legendText(label: string, value: number, total: number, format: (value: number) => string): string {
  const share = total > 0 ? Math.round((value / total) * 100) : 0;
  return `${label} · ${format(value)} (${share}%)`;
}
