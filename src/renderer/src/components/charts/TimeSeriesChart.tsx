import type { Chart as ChartInstance, ChartDataset } from 'chart.js';
import { createEffect, onCleanup, onMount } from 'solid-js';
import { pointRadii } from './chartData';
import { setUpCharts, withAlpha } from './chartSetup';

export interface SeriesLine {
  label: string;
  data: Array<number | null>;
  color: string;
  kind?: 'line' | 'bar';
  fill?: boolean;
  dashed?: boolean;
  /** Bars with the same stack id are stacked. */
  stack?: string;
}

export interface TimeSeriesChartProps {
  labels: string[];
  lines: SeriesLine[];
  /** Formats values on the y axis and in tooltips. */
  format: (value: number) => string;
  label: string;
  legend?: boolean;
  /** The y axis title, with its unit ("requests per 1 min", "latency"). */
  yTitle: string;
  /** Counts: whole-number ticks only (never "0, 1, 1, 2"). */
  integer?: boolean;
  /** The x axis title (the time zone of the labels). */
  xTitle?: string;
}

/** Chart.js types each dataset by its chart type; bars on a line chart are declared per dataset. */
type MixedDataset = ChartDataset<'line', Array<number | null>>;

function toDataset(line: SeriesLine): MixedDataset {
  if (line.kind === 'bar') {
    return {
      type: 'bar',
      label: line.label,
      data: line.data,
      backgroundColor: withAlpha(line.color, 0.75),
      hoverBackgroundColor: line.color,
      borderRadius: 2,
      borderSkipped: false,
      barPercentage: 0.9,
      categoryPercentage: 0.9,
      ...(line.stack ? { stack: line.stack } : {}),
    } satisfies ChartDataset<'bar', Array<number | null>> as unknown as MixedDataset;
  }
  return {
    type: 'line',
    label: line.label,
    data: line.data,
    borderColor: line.color,
    backgroundColor: withAlpha(line.color, 0.12),
    fill: line.fill === true ? 'origin' : false,
    borderWidth: 1.75,
    borderDash: line.dashed ? [4, 3] : [],
    pointRadius: pointRadii(line.data),
    pointBackgroundColor: line.color,
    pointHoverRadius: 4,
    tension: 0.25,
    // An idle minute has no latency: a gap, not a line bridging it as if requests ran.
    spanGaps: false,
  };
}

/** A time-bucketed chart of lines and/or bars. Takes data only; redraws when it changes. */
export function TimeSeriesChart(props: TimeSeriesChartProps) {
  let canvas: HTMLCanvasElement | undefined;
  let chart: ChartInstance<'line', Array<number | null>, string> | undefined;

  onMount(() => {
    const Chart = setUpCharts();
    if (!canvas) return;
    chart = new Chart<'line', Array<number | null>, string>(canvas, {
      type: 'line',
      data: { labels: [], datasets: [] },
      options: {
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: {
            stacked: true,
            grid: { display: false },
            ticks: { maxRotation: 0, autoSkipPadding: 16 },
            title: { display: props.xTitle !== undefined, text: props.xTitle ?? '' },
          },
          y: {
            stacked: false,
            beginAtZero: true,
            grace: '5%',
            title: { display: true, text: props.yTitle },
            ticks: { maxTicksLimit: 5, ...(props.integer ? { precision: 0 } : {}), callback: (value) => props.format(Number(value)) },
          },
        },
        plugins: {
          legend: { display: props.legend !== false, position: 'top', align: 'end' },
          tooltip: { callbacks: { label: (item) => `${item.dataset.label ?? ''}: ${item.parsed.y === null ? '—' : props.format(item.parsed.y)}` } },
        },
      },
    });
    onCleanup(() => chart?.destroy());
  });

  createEffect(() => {
    const labels = props.labels;
    const datasets = props.lines.map(toDataset);
    const stacked = props.lines.some((line) => line.stack !== undefined);
    if (!chart) return;
    chart.data.labels = labels;
    chart.data.datasets = datasets;
    const y = chart.options.scales?.y;
    if (y) {
      y.stacked = stacked;
      if (y.title) y.title.text = props.yTitle;
    }
    chart.update('none');
  });

  return (
    <div class="chart-canvas">
      <canvas ref={canvas} role="img" aria-label={props.label} />
    </div>
  );
}
