/**
 * @sotto/crypto — the primitives facade (ARCHITECTURE.md). Every function here delegates to the
 * active {@link CryptoBackend} (`node:crypto` in Node, `@noble/*` elsewhere) or, where runtimes
 * lack the primitive, is Sotto's own code on the backend's hashes: XEdDSA on `hazmat/`, Kyber1024
 * and ML-KEM-768 on `ml-kem/` (FIPS 203). docs/crypto.md lists these deviations. No I/O.
 *
 * Public surface (listed in `api.ts`; each module's header says which spec section it follows):
 * - backend selection: `activeBackend()`, `useBackend()`, `nodeBackend` (Node only), `nobleBackend`
 * - hashes / MACs / KDF / ciphers: thin wrappers over the active backend
 * - `x25519*`, XEdDSA (`xeddsaSign`, `xeddsaVerify`), Ed25519 verify
 * - Kyber1024 round 3 (`kyber1024*`, signal-wire.md §3.3)
 * - ML-KEM-768 keygen/decaps and the split encapsulation (`mlKem768*`, signal-wire.md §3.4)
 * - `CryptoError` with string-union codes, `concatBytes`, `bytesEqual`, hex helpers
 *
 * Entry points (package.json `exports`): this file is the Node entry; it also exports
 * `nodeBackend` and makes it the active backend on load. Under the `browser` condition
 * `index.browser.ts` is loaded instead: same exports minus `nodeBackend`, noble backend active.
 */
import { useBackend } from './active-backend.js';
import { nodeBackend } from './backends/node.js';

export * from './api.js';
export { nodeBackend };

useBackend(nodeBackend);
