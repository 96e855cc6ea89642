/**
 * @sotto/crypto, browser entry (package.json `exports`, `browser` condition): the same exports as
 * `index.ts` except `nodeBackend`. The active backend stays the pure-JS noble one, so nothing here
 * loads `node:crypto`.
 */
export * from './api.js';
