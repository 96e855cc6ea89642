/**
 * Randomness is injected (CONVENTIONS.md "The protocol core"): every function that needs random
 * bytes takes an `Rng`. Production code passes `randomBytes` from @sotto/crypto; tests pass a
 * seeded generator to make runs reproducible.
 */
export type Rng = (length: number) => Uint8Array;
