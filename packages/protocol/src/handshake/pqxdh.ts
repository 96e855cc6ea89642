/**
 * PQXDH key agreement (shared/specs/signal-wire.md §3.1; libsignal `pqxdh.rs`).
 *
 * Initiator A (identity IK_A, fresh base key EK_A) with B's bundle (IK_B, SPK_B, OPK_B?, KPK_B):
 *   (ss, ct) = Kyber1024.Encaps(KPK_B)
 *   ikm = 0xFF×32 ‖ DH(IK_A,SPK_B) ‖ DH(EK_A,IK_B) ‖ DH(EK_A,SPK_B) [‖ DH(EK_A,OPK_B)] ‖ ss
 *   RK ‖ CK ‖ PQR = HKDF(salt none, ikm, "WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024", 96)
 * The responder mirrors the DHs and decapsulates, after checking that EK_A is canonical
 * (high bit clear, u < p, torsion-free; `base-key.ts`).
 *
 * `pqxdhAcceptSecrets`/`deriveHandshakeKeys` expose the intermediate values for known-answer
 * tests; production code calls `pqxdhInitiate`/`pqxdhAccept`.
 */
import { hkdfSha256, utf8 } from '@sotto/crypto';
import { ProtocolError } from '../errors.js';
import type { KeyPair, PublicKey } from '../keys/curve.js';
import type { IdentityKey, IdentityKeyPair } from '../keys/identity-key.js';
import type { KemKeyPair, KemPublicKey } from '../keys/kem.js';
import { ChainKey } from '../ratchet/chain-key.js';
import { RootKey } from '../ratchet/root-key.js';
import type { Rng } from '../rng.js';
import { isCanonicalBaseKey } from './base-key.js';

const INFO = utf8('WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024');
const DISCONTINUITY = new Uint8Array(32).fill(0xff);
const NO_SALT = new Uint8Array(0);

export interface HandshakeKeys {
  readonly rootKey: RootKey;
  readonly chainKey: ChainKey;
  /** The SPQR authentication key (`auth_key`) of both parties. */
  readonly pqrKey: Uint8Array;
}

/** The PQXDH inputs, in `ikm` order: DH1..DH3 [, DH4], then the Kyber shared secret. */
export interface PqxdhSecrets {
  readonly dh: readonly Uint8Array[];
  readonly kemSharedSecret: Uint8Array;
}

export interface PqxdhInitiatorParams {
  readonly ourIdentity: IdentityKeyPair;
  readonly ourBaseKey: KeyPair;
  readonly theirIdentity: IdentityKey;
  readonly theirSignedPreKey: PublicKey;
  readonly theirOneTimePreKey: PublicKey | null;
  readonly theirKyberPreKey: KemPublicKey;
}

export interface PqxdhResponderParams {
  readonly ourIdentity: IdentityKeyPair;
  readonly ourSignedPreKey: KeyPair;
  readonly ourOneTimePreKey: KeyPair | null;
  readonly ourKyberPreKey: KemKeyPair;
  readonly theirIdentity: IdentityKey;
  readonly theirBaseKey: PublicKey;
  /** `0x08 ‖ 1568`. */
  readonly kyberCiphertext: Uint8Array;
}

/** `HKDF(salt none, 0xFF×32 ‖ dh… ‖ ss, info, 96)` split into RK, CK, PQR. */
export function deriveHandshakeKeys(secrets: PqxdhSecrets): HandshakeKeys {
  let length = DISCONTINUITY.length + secrets.kemSharedSecret.length;
  for (const d of secrets.dh) length += d.length;
  const ikm = new Uint8Array(length);
  ikm.set(DISCONTINUITY, 0);
  let pos = DISCONTINUITY.length;
  for (const d of secrets.dh) {
    ikm.set(d, pos);
    pos += d.length;
  }
  ikm.set(secrets.kemSharedSecret, pos);
  const okm = hkdfSha256(ikm, NO_SALT, INFO, 96);
  ikm.fill(0);
  return {
    rootKey: new RootKey(okm.subarray(0, 32)),
    chainKey: new ChainKey(okm.subarray(32, 64), 0),
    pqrKey: okm.subarray(64, 96),
  };
}

function wipe(secrets: PqxdhSecrets): void {
  for (const d of secrets.dh) d.fill(0);
  secrets.kemSharedSecret.fill(0);
}

/** The initiator's side: encapsulates to the Kyber prekey and returns `0x08 ‖ ct` with the keys. */
export function pqxdhInitiate(
  p: PqxdhInitiatorParams,
  rng: Rng,
): { keys: HandshakeKeys; kyberCiphertext: Uint8Array } {
  const ek = p.ourBaseKey.privateKey;
  const dh = [
    p.ourIdentity.privateKey.agree(p.theirSignedPreKey),
    ek.agree(p.theirIdentity.publicKey),
    ek.agree(p.theirSignedPreKey),
  ];
  if (p.theirOneTimePreKey !== null) dh.push(ek.agree(p.theirOneTimePreKey));
  const { ciphertext, sharedSecret } = p.theirKyberPreKey.encapsulate(rng);
  const secrets = { dh, kemSharedSecret: sharedSecret };
  const keys = deriveHandshakeKeys(secrets);
  wipe(secrets);
  return { keys, kyberCiphertext: ciphertext };
}

/**
 * The responder's DH outputs and Kyber secret (for known-answer tests). Throws `INVALID_KEY` for
 * a non-canonical base key and `INVALID_MESSAGE` for a KEM ciphertext of the wrong type/length.
 */
export function pqxdhAcceptSecrets(p: PqxdhResponderParams): PqxdhSecrets {
  if (!isCanonicalBaseKey(p.theirBaseKey.u)) {
    throw new ProtocolError('INVALID_KEY', 'incoming base key is invalid');
  }
  const dh = [
    p.ourSignedPreKey.privateKey.agree(p.theirIdentity.publicKey),
    p.ourIdentity.privateKey.agree(p.theirBaseKey),
    p.ourSignedPreKey.privateKey.agree(p.theirBaseKey),
  ];
  if (p.ourOneTimePreKey !== null) dh.push(p.ourOneTimePreKey.privateKey.agree(p.theirBaseKey));
  const kemSharedSecret = p.ourKyberPreKey.secretKey.decapsulate(p.kyberCiphertext);
  return { dh, kemSharedSecret };
}

/** The responder's side of PQXDH. */
export function pqxdhAccept(p: PqxdhResponderParams): HandshakeKeys {
  const secrets = pqxdhAcceptSecrets(p);
  const keys = deriveHandshakeKeys(secrets);
  wipe(secrets);
  return keys;
}
