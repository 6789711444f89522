import { createInterface } from 'node:readline';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { resolveConfig } from '../src/main/config';
import { startCore } from '../src/main/core';
import { silentLogger } from '../src/shared/logger';

/**
 * The server side of the built-in model bench, in its own process: the same core as `npm run
 * serve` with the built-in model, plus an event-loop delay monitor. Commands on stdin, answers on
 * stdout as JSON lines: `start` resets the monitor, `stop` reports its percentiles and the RSS.
 */
const db = process.argv[2] as string;
const core = await startCore(resolveConfig({ argv: ['--port', '0', '--db', db, '--builtin-queue', '64'], env: {}, cwd: process.cwd() }), { log: silentLogger });
const lag = monitorEventLoopDelay({ resolution: 1 });
const rssMb = (): number => process.memoryUsage().rss / 2 ** 20;
const say = (value: object): void => void process.stdout.write(`${JSON.stringify(value)}\n`);

say({ type: 'ready', url: core.server.url, rssMb: rssMb() });
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'start') {
    lag.reset();
    lag.enable();
    say({ type: 'started' });
  } else if (line === 'stop') {
    lag.disable();
    const ms = (ns: number): number => ns / 1e6;
    say({ type: 'stopped', lagP50Ms: ms(lag.percentile(50)), lagP99Ms: ms(lag.percentile(99)), lagMaxMs: ms(lag.max), rssMb: rssMb() });
  } else if (line === 'exit') {
    break;
  }
}
await core.stop();
process.exit(0);
