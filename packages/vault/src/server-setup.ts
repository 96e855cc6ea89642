/**
 * A fresh OPAQUE server setup (RFC 9807 server keys and OPRF seed, `@serenity-kit/opaque`
 * format), for an operator to keep outside the vault's database — a secret manager or a 0600
 * file — and pass as `serverSetup`: then a stolen database alone allows no offline guessing
 * (docs/backups.md "What the vault stores is not password-equivalent", assumption 1). It is what
 * `KeyVault.open` creates when given none; made here through that public path, not re-implemented.
 */
import { KeyVault, MemoryVaultStore } from '@sotto/backup';

export async function createVaultServerSetup(): Promise<string> {
  const scratch = new MemoryVaultStore();
  await KeyVault.open({ store: scratch });
  const setup = await scratch.loadServerSetup();
  if (setup === undefined) throw new Error('the key vault created no server setup');
  return setup;
}
