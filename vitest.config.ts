import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// One project per suite: `npm test` runs unit + api (offline, no system packages);
// integration (real Prometheus/InfluxDB) and e2e (real Chromium) have their own scripts.
export default defineConfig({
  test: {
    projects: [
      {
        // The renderer's data functions run on Solid's browser build (the Node condition picks its
        // server build, where effects never run); nothing in the main process imports solid-js.
        resolve: { alias: [{ find: /^solid-js$/, replacement: fileURLToPath(new URL('./node_modules/solid-js/dist/solid.js', import.meta.url)) }] },
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' },
      },
      { test: { name: 'api', include: ['test/api/**/*.test.ts'], environment: 'node', testTimeout: 30_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      // The built app: electron-builder's layout and the main bundle under plain Node (needs `npm run build`).
      {
        test: {
          name: 'package',
          include: ['test/package/**/*.test.ts'],
          environment: 'node',
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      { test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], environment: 'node', testTimeout: 120_000, hookTimeout: 120_000, fileParallelism: false } },
    ],
  },
});
