/**
 * Which {@link CryptoBackend} the facade functions use. It starts as the pure-JS noble backend
 * (safe everywhere); the Node entry point (`index.ts`) switches it to `node:crypto` when it loads,
 * while the browser entry point (`index.browser.ts`, chosen by the `browser` export condition)
 * leaves it alone, so browser bundles never load `node:crypto`. Tests and benchmarks switch with
 * `useBackend`.
 */
import type { CryptoBackend } from './backend.js';
import { nobleBackend } from './backends/noble.js';

let current: CryptoBackend = nobleBackend;

/** The backend every facade function delegates to. */
export function activeBackend(): CryptoBackend {
  return current;
}

/** Replaces the active backend; returns the previous one so callers can restore it. */
export function useBackend(backend: CryptoBackend): CryptoBackend {
  const previous = current;
  current = backend;
  return previous;
}
