import { defineConfig } from 'vitest/config';

// Tests run against TypeScript sources: the `sotto-source` export condition maps every
// workspace package to its `src/index.ts` (see each package's `exports`).
export default defineConfig({
  resolve: { conditions: ['sotto-source'] },
  ssr: { resolve: { conditions: ['sotto-source'] } },
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'adapters/*/test/**/*.test.ts',
      'apps/*/test/**/*.test.ts',
      'tests/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
