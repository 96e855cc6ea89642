/**
 * The vault's login state between `loginStart` and `loginFinish`, sealed and handed to the
 * client, so a vault needs no session table and any node of a cluster can finish a login another
 * node started (docs/backups.md "The key vault"). The OPAQUE server state inside it holds the
 * expected client MAC (RFC 9807, the 3DH server state), so it must stay secret: it is encrypted, not only MACed.
 *
 *     token = base64url(0x01 ‖ nonce(12) ‖ AES-256-GCM(key, nonce, issuedAt u64 ‖ registrationId(16)
 *             ‖ serverLoginState, aad = label ‖ purpose ‖ 0x00 ‖ accountId))
 *     key   = HKDF-SHA256(utf8(serverSetup), "", "sotto-vault-v1/login-state")
 */
import { aes256GcmDecrypt, aes256GcmEncrypt, concatBytes, hkdfSha256, utf8 } from '@sotto/crypto';
import { fromBase64url, readU64, toBase64url, writeU64 } from '../encoding.js';
import type { VaultRecordKey } from './vault-store.js';

const LABEL = utf8('sotto-vault-v1/login-state');
const VERSION = 1;
const NONCE_LENGTH = 12;
const REGISTRATION_ID_LENGTH = 16;
const decoder = new TextDecoder('utf-8', { fatal: true });

export interface LoginState {
  readonly issuedAtMs: number;
  /** base64url of the 16-byte registration id. */
  readonly registrationId: string;
  readonly serverLoginState: string;
}

export function loginStateKey(serverSetup: string): Uint8Array {
  return hkdfSha256(utf8(serverSetup), new Uint8Array(0), LABEL, 32);
}

function aad(key: VaultRecordKey): Uint8Array {
  return concatBytes(LABEL, utf8(key.purpose), new Uint8Array(1), utf8(key.accountId));
}

export function sealLoginState(
  sealingKey: Uint8Array,
  key: VaultRecordKey,
  state: LoginState,
  nonce: Uint8Array,
): string {
  const registrationId = fromBase64url(state.registrationId, 'registrationId');
  const body = utf8(state.serverLoginState);
  const plain = new Uint8Array(8 + REGISTRATION_ID_LENGTH + body.length);
  writeU64(plain, 0, state.issuedAtMs);
  plain.set(registrationId, 8);
  plain.set(body, 8 + REGISTRATION_ID_LENGTH);
  const sealed = aes256GcmEncrypt(sealingKey, nonce, plain, aad(key));
  plain.fill(0);
  return toBase64url(concatBytes(Uint8Array.of(VERSION), nonce, sealed));
}

/** The state, or undefined if the token is malformed, forged, or for another account/purpose. */
export function openLoginState(
  sealingKey: Uint8Array,
  key: VaultRecordKey,
  token: string,
): LoginState | undefined {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64url(token, 'loginState');
  } catch {
    return undefined;
  }
  if (bytes.length < 1 + NONCE_LENGTH + 16 + 8 + REGISTRATION_ID_LENGTH || bytes[0] !== VERSION) {
    return undefined;
  }
  let plain: Uint8Array;
  try {
    plain = aes256GcmDecrypt(
      sealingKey,
      bytes.subarray(1, 1 + NONCE_LENGTH),
      bytes.subarray(1 + NONCE_LENGTH),
      aad(key),
    );
  } catch {
    return undefined;
  }
  const issuedAtMs = readU64(plain, 0);
  if (issuedAtMs === undefined) return undefined;
  try {
    return {
      issuedAtMs,
      registrationId: toBase64url(plain.subarray(8, 8 + REGISTRATION_ID_LENGTH)),
      serverLoginState: decoder.decode(plain.subarray(8 + REGISTRATION_ID_LENGTH)),
    };
  } catch {
    return undefined;
  } finally {
    plain.fill(0);
  }
}
