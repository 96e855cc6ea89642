/**
 * @sotto/vault — the key vault as a network service (docs/backups.md "The key vault"): the
 * transport-free `KeyVault` of @sotto/backup behind HTTP JSON routes (@sotto/api
 * vault-routes.ts), authenticated by credentials the relay signs (Signal's external service
 * credentials, credentials.ts). `vaultPlugin` mounts inside the relay; `createVaultServer` runs it
 * alone. Stores: `MemoryVaultStore` (@sotto/backup), `@sotto/vault-store-sqlite`.
 */
export { vaultPlugin, type VaultPluginOptions, type VaultSecurityEvent } from './plugin.js';
export {
  createVaultServer,
  VAULT_SHUTDOWN_GRACE_MS,
  type VaultServer,
  type VaultServerOptions,
} from './server.js';
export {
  VaultCredentials,
  VAULT_CREDENTIAL_KEY_BYTES,
  VAULT_CREDENTIAL_SCOPES,
  vaultCredentialScopeKey,
  vaultCredentialSignature,
  type VaultCredentialScope,
  type VaultCredentialsOptions,
  type VerifiedVaultCredential,
} from './credentials.js';
export { toVaultApiError } from './errors.js';
export { createVaultServerSetup } from './server-setup.js';
export * as vaultLimits from './limits.js';
