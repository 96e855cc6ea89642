/**
 * The OPAQUE implementation (RFC 9807): `@serenity-kit/opaque`, opaque-ke compiled to WebAssembly,
 * ristretto255 for the OPRF and the AKE, Argon2id as the key-stretching function (KSF). The WASM
 * module loads asynchronously: every entry point awaits `opaqueReady()` before the first call.
 */
import * as opaque from '@serenity-kit/opaque';

export { opaque };

/** Resolves once the WASM module is ready. */
export function opaqueReady(): Promise<void> {
  return opaque.ready;
}

/** Argon2id settings of the client's key stretching (OPAQUE's key stretching function, RFC 9807). */
export type KeyStretching =
  | 'memory-constrained'
  | 'rfc-recommended'
  | {
      readonly 'argon2id-custom': {
        readonly iterations: number;
        readonly memory: number;
        readonly parallelism: number;
      };
    };
