import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';

/** The chart palette, matched to the stylesheet's variables. */
export const COLORS = {
  blue: '#7c9cff',
  teal: '#2dd4bf',
  violet: '#b794f6',
  amber: '#f5b942',
  rose: '#f7768e',
  green: '#4ade80',
  sky: '#60a5fa',
  slate: '#64748b',
  orange: '#fb923c',
  pink: '#f472b6',
} as const;

/** Colors for keyed series (models, endpoints, error types), in a stable order. */
export const CATEGORY_COLORS = [
  COLORS.blue,
  COLORS.teal,
  COLORS.violet,
  COLORS.amber,
  COLORS.sky,
  COLORS.pink,
  COLORS.orange,
  COLORS.green,
  COLORS.rose,
  COLORS.slate,
];

let registered = false;

/** Registers only the pieces of chart.js the dashboard uses, with the dark theme's defaults. */
export function setUpCharts(): typeof Chart {
  if (registered) return Chart;
  registered = true;
  Chart.register(
    LineController,
    BarController,
    DoughnutController,
    LineElement,
    BarElement,
    PointElement,
    ArcElement,
    LinearScale,
    CategoryScale,
    Filler,
    Tooltip,
    Legend,
  );
  Chart.defaults.font.family = "'Inter Variable', 'Inter', system-ui, sans-serif";
  Chart.defaults.font.size = 11;
  Chart.defaults.color = '#8b98a5';
  Chart.defaults.borderColor = 'rgba(148, 163, 184, 0.08)';
  // Updates arrive several times a minute: redraw at once instead of animating each one.
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 8;
  Chart.defaults.plugins.legend.labels.boxHeight = 8;
  Chart.defaults.plugins.legend.labels.usePointStyle = true;
  Chart.defaults.plugins.legend.labels.padding = 12;
  Chart.defaults.plugins.tooltip.backgroundColor = 'rgba(13, 18, 25, 0.96)';
  Chart.defaults.plugins.tooltip.borderColor = 'rgba(148, 163, 184, 0.2)';
  Chart.defaults.plugins.tooltip.borderWidth = 1;
  Chart.defaults.plugins.tooltip.padding = 10;
  Chart.defaults.plugins.tooltip.titleColor = '#e6edf3';
  Chart.defaults.plugins.tooltip.bodyColor = '#c3ccd6';
  return Chart;
}

/** A translucent version of a hex color for fills. */
export function withAlpha(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}
