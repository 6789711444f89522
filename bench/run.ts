import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runStoreBench } from './storeBench';

/**
 * `npm run bench` — measures the store (and, with more suites, the bridge) and writes
 * bench/RESULTS.md. `npm run bench -- --sizes 10000,100000` picks the table sizes.
 */
const args = process.argv.slice(2);
const sizesArg = args[args.indexOf('--sizes') + 1];
const sizes = args.includes('--sizes') && sizesArg ? sizesArg.split(',').map(Number) : [10_000, 100_000, 1_000_000];
const log = (line: string): void => void process.stderr.write(`${line}\n`);

const store = runStoreBench(sizes, log);

const fmt = (n: number, digits = 1): string => n.toFixed(digits);
const lines = [
  '# Benchmark results',
  '',
  `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${process.platform}/${process.arch}, 2 cores.`,
  '',
  '## Metrics store',
  '',
  'Events are written through the real recorder (batched writer with rollups), in time order over 30 days,',
  '4 endpoints × 3 models, 5 % errors. Start-up, summary, export and RSS are measured in a fresh process',
  'that opens the filled file; summary and export are medians of 30 runs.',
  '',
  '| events | inserts/s | store open (ms) | server start (ms) | summary (ms) | Prometheus export (ms) | RSS (MB) | file (MB) |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...store.map(
    (r) =>
      `| ${r.events.toLocaleString('en')} | ${Math.round(r.insertPerSecond).toLocaleString('en')} | ${fmt(r.startupMs)} | ${fmt(r.serverStartupMs)} | ${fmt(r.summaryMs, 2)} | ${fmt(r.prometheusMs, 2)} | ${fmt(r.rssMb, 0)} | ${fmt(r.dbMb, 0)} |`,
  ),
  '',
  'Targets (PRODUCT.md): summary and export ≤ 20 ms at 10^6 and nearly flat; ≥ 50,000 inserts/s; start-up ≤ 1 s at 10^6; RSS ≤ 200 MB.',
  '',
];
writeFileSync(join(import.meta.dirname, 'RESULTS.md'), lines.join('\n'));
log(lines.join('\n'));
