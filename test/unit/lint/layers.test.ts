import { ESLint } from 'eslint';
import { describe, expect, it, vi } from 'vitest';

// The first lint loads typescript-eslint's parser and the whole config: seconds on a busy 2-core machine.
vi.setConfig({ testTimeout: 60_000 });

const eslint = new ESLint();

async function complaints(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the layer rule inside src/main (store → metrics → export → backend → server → core → shell/serve)', () => {
  it.each([
    ['src/main/store/probe.ts', "import { MetricsStore } from '../metrics/metricsStore';"],
    ['src/main/export/probe.ts', "import { createServer } from '../server/createServer';"],
    ['src/main/backend/probe.ts', "import type { AppConfig } from '../config';"],
    ['src/main/backend/nested/probe.ts', "import { startCore } from '../../core';"],
    ['src/main/server/probe.ts', "import { createMonitorService } from '../monitorService';"],
    ['src/main/core.ts', "import { DesktopCore } from './shell/desktopCore';"],
  ])('refuses an upward import from %s', async (file, code) => {
    expect(await complaints(file, `${code}\nexport {};\n`)).toEqual([expect.stringContaining('may import only from its own layer or below')]);
  });

  it.each([
    ['src/main/metrics/probe.ts', "import { SqliteMetricsFile } from '../store/sqliteMetricsFile';"],
    ['src/main/backend/nested/probe.ts', "import { readSseData } from '../sseStream';"],
    ['src/main/server/probe.ts', "import { DiffusionError } from '../../shared/errors';"],
    ['src/main/core.ts', "import { createServer } from './server/createServer';"],
    ['src/main/shell/probe.ts', "import { startCore } from '../core';"],
  ])('lets %s import its own layer, lower ones and src/shared', async (file, code) => {
    expect(await complaints(file, `${code}\nexport {};\n`)).toEqual([]);
  });

  it('still keeps electron out of every core layer', async () => {
    expect(await complaints('src/main/store/probe.ts', "import { app } from 'electron';\nexport { app };\n")).toHaveLength(1);
  });
});
