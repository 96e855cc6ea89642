/**
 * Chunk encryption (docs/backup-format.md §5), the STREAM construction of Hoang, Reyhanitabar,
 * Rogaway and Vizár ("Online Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance",
 * CRYPTO 2015, §7) over AES-256-GCM:
 *
 *     nonce = noncePrefix(4) ‖ index u64
 *     aad   = headerMac(32) ‖ index u64 ‖ final u8
 *     chunk = AES-256-GCM(chunkKey, nonce, plaintext, aad)   (ciphertext ‖ tag(16))
 *
 * The index in nonce and AAD detects reordering and dropped chunks, the final flag detects
 * truncation at a chunk boundary and appended chunks, the header MAC binds every chunk to its
 * archive (chunkKey and noncePrefix are unique per backup id as well).
 */
import { aes256GcmDecrypt, aes256GcmEncrypt } from '@sotto/crypto';
import { writeU64 } from '../encoding.js';

export const TAG_LENGTH = 16;
const NONCE_LENGTH = 12;
const AAD_LENGTH = 41;

export class ChunkCipher {
  readonly #key: Uint8Array;
  readonly #nonce = new Uint8Array(NONCE_LENGTH);
  readonly #aad = new Uint8Array(AAD_LENGTH);

  constructor(chunkKey: Uint8Array, noncePrefix: Uint8Array, headerMac: Uint8Array) {
    this.#key = chunkKey;
    this.#nonce.set(noncePrefix, 0);
    this.#aad.set(headerMac, 0);
  }

  #position(index: number, final: boolean): void {
    writeU64(this.#nonce, 4, index);
    writeU64(this.#aad, 32, index);
    this.#aad[40] = final ? 1 : 0;
  }

  /** `plaintext` may be reused by the caller afterwards: the result is a new array. */
  seal(plaintext: Uint8Array, index: number, final: boolean): Uint8Array {
    this.#position(index, final);
    return aes256GcmEncrypt(this.#key, this.#nonce, plaintext, this.#aad);
  }

  /** The plaintext, or undefined when the chunk does not authenticate at this position. */
  open(sealed: Uint8Array, index: number, final: boolean): Uint8Array | undefined {
    this.#position(index, final);
    try {
      return aes256GcmDecrypt(this.#key, this.#nonce, sealed, this.#aad);
    } catch {
      return undefined;
    }
  }
}
