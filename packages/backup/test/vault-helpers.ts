// Shared set-up for the key vault tests.
import {
  KeyVault,
  MemoryVaultStore,
  type KeyVaultOptions,
  type VaultClientOptions,
  type VaultStore,
} from '../src/index.js';

/** Cheap Argon2id so tests run fast; production uses DEFAULT_KEY_STRETCHING. */
export const FAST: VaultClientOptions = {
  keyStretching: { 'argon2id-custom': { iterations: 1, memory: 256, parallelism: 1 } },
};

export class FakeClock {
  ms = 1_750_000_000_000;
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export async function openVault(
  options: Partial<KeyVaultOptions> & { store?: VaultStore } = {},
): Promise<{ vault: KeyVault; store: VaultStore; clock: FakeClock }> {
  const clock = new FakeClock();
  const store = options.store ?? new MemoryVaultStore();
  const vault = await KeyVault.open({ now: clock.now, ...options, store });
  return { vault, store, clock };
}

export async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}
