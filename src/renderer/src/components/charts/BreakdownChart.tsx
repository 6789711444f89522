import type { Chart as ChartInstance } from 'chart.js';
import { createEffect, onCleanup, onMount } from 'solid-js';
import { legendText } from './chartData';
import { CATEGORY_COLORS, setUpCharts, withAlpha } from './chartSetup';

export interface BreakdownItem {
  label: string;
  value: number;
  /** Drawn as a second, darker segment of the same bar (e.g. errors within requests). */
  secondary?: number;
}

export interface BreakdownChartProps {
  items: BreakdownItem[];
  kind: 'bar' | 'doughnut';
  label: string;
  valueLabel: string;
  secondaryLabel?: string;
  format: (value: number) => string;
  /** The value axis title of bars, with its unit. */
  valueTitle?: string;
}

/** Totals per category: horizontal bars or a doughnut. Takes data only. */
export function BreakdownChart(props: BreakdownChartProps) {
  let canvas: HTMLCanvasElement | undefined;
  let chart: ChartInstance<'bar' | 'doughnut', number[], string> | undefined;

  onMount(() => {
    const Chart = setUpCharts();
    if (!canvas) return;
    const doughnut = props.kind === 'doughnut';
    chart = new Chart<'bar' | 'doughnut', number[], string>(canvas, {
      type: doughnut ? 'doughnut' : 'bar',
      data: { labels: [], datasets: [] },
      options: doughnut
        ? {
            cutout: '68%',
            plugins: {
              legend: {
                position: 'right',
                labels: {
                  padding: 10,
                  generateLabels: (owner) => {
                    const base = Chart.overrides.doughnut.plugins.legend.labels.generateLabels(owner);
                    const values = props.items.map((item) => item.value);
                    const total = values.reduce((a, b) => a + b, 0);
                    return base.map((entry, i) => ({ ...entry, text: legendText(entry.text, values[i] ?? 0, total, props.format) }));
                  },
                },
              },
              tooltip: {
                callbacks: {
                  label: (item) => {
                    const total = props.items.reduce((a, b) => a + b.value, 0);
                    return legendText(item.label, Number(item.raw), total, props.format);
                  },
                },
              },
            },
          }
        : {
            indexAxis: 'y',
            scales: {
              x: {
                stacked: true,
                beginAtZero: true,
                title: { display: props.valueTitle !== undefined, text: props.valueTitle ?? '' },
                ticks: { maxTicksLimit: 5, precision: 0, callback: (value) => props.format(Number(value)) },
              },
              y: { stacked: true, grid: { display: false } },
            },
            plugins: {
              legend: { display: props.secondaryLabel !== undefined, position: 'top', align: 'end' },
              tooltip: { callbacks: { label: (item) => `${item.dataset.label ?? ''}: ${props.format(Number(item.raw))}` } },
            },
          },
    });
    onCleanup(() => chart?.destroy());
  });

  createEffect(() => {
    const items = props.items;
    if (!chart) return;
    chart.data.labels = items.map((item) => item.label);
    if (props.kind === 'doughnut') {
      chart.data.datasets = [
        {
          label: props.valueLabel,
          data: items.map((item) => item.value),
          backgroundColor: items.map((_, i) => CATEGORY_COLORS[i % CATEGORY_COLORS.length] as string),
          borderColor: '#11161d',
          borderWidth: 2,
        },
      ];
    } else {
      const hasSecondary = props.secondaryLabel !== undefined;
      chart.data.datasets = [
        {
          label: props.valueLabel,
          data: items.map((item) => item.value - (hasSecondary ? (item.secondary ?? 0) : 0)),
          backgroundColor: items.map((_, i) => withAlpha(CATEGORY_COLORS[i % CATEGORY_COLORS.length] as string, 0.8)),
          borderRadius: 3,
          barThickness: 14,
        },
        ...(hasSecondary
          ? [
              {
                label: props.secondaryLabel as string,
                data: items.map((item) => item.secondary ?? 0),
                backgroundColor: withAlpha('#f7768e', 0.85),
                borderRadius: 3,
                barThickness: 14,
              },
            ]
          : []),
      ];
    }
    chart.update('none');
  });

  return (
    <div class="chart-canvas">
      <canvas ref={canvas} role="img" aria-label={props.label} />
    </div>
  );
}
