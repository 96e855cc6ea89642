/**
 * The archive header (docs/backup-format.md §2) and the keys derived for one archive (§3).
 *
 *     magic "SOTTOBAK"(8) ‖ version u16 ‖ header length u16 ‖ backup id(16) ‖ kdf u8 ‖ aead u8 ‖
 *     compression u8 ‖ padding u8 ‖ chunk size u32 ‖ key check(16) ‖ slot count u8 ‖
 *     slots (type u8 ‖ length u16 ‖ data)* ‖ HMAC-SHA256(header key, everything before)(32)
 *
 * All integers are big-endian. The header is plaintext (a reader needs the slots before it has a
 * key) but authenticated: by its MAC, and by the MAC's presence in every chunk's associated data.
 * The key check lets a reader tell "wrong key" (BAD_KEY) from "tampered header" (BAD_HEADER).
 */
import { constantTimeEqual, hkdfSha256, hmacSha256, utf8 } from '@sotto/crypto';
import { BackupError } from '../errors.js';
import { readU16, readU32, writeU16, writeU32 } from '../encoding.js';
import { backupKeyMaterial, type BackupKey } from '../keys/backup-key.js';
import type { KeySlot } from '../keys/recovery-key.js';
import {
  MAX_CHUNK_SIZE,
  MAX_HEADER_LENGTH,
  MAX_KEY_SLOT_LENGTH,
  MAX_KEY_SLOTS,
  MIN_CHUNK_SIZE,
} from '../limits.js';

/** "SOTTOBAK". */
export const MAGIC = utf8('SOTTOBAK');
export const FORMAT_VERSION = 1;
export const KDF_HKDF_SHA256 = 1;
export const AEAD_AES_256_GCM = 1;
export const COMPRESSION_NONE = 0;
export const COMPRESSION_DEFLATE_RAW = 1;
export const PADDING_PADME = 1;

export const BACKUP_ID_LENGTH = 16;
export const KEY_CHECK_LENGTH = 16;
export const HEADER_MAC_LENGTH = 32;
/** Bytes before the header length is known: magic, version, header length. */
export const HEADER_PREFIX_LENGTH = 12;
/** Bytes up to and including the slot count. */
const FIXED_LENGTH = 53;
export const MIN_HEADER_LENGTH = FIXED_LENGTH + HEADER_MAC_LENGTH;

export type Compression = 'none' | 'deflate-raw';

/** A parsed header. `bytes` is the whole header as read, MAC included. */
export interface BackupHeader {
  readonly version: number;
  readonly backupId: Uint8Array;
  readonly compression: Compression;
  readonly chunkSize: number;
  readonly keyCheck: Uint8Array;
  readonly keySlots: readonly KeySlot[];
  readonly mac: Uint8Array;
  readonly bytes: Uint8Array;
}

/** The per-archive keys: HKDF-SHA256(backup key, salt = backup id, info = label). */
export interface ArchiveKeys {
  readonly keyCheck: Uint8Array;
  readonly headerMacKey: Uint8Array;
  readonly chunkKey: Uint8Array;
  readonly noncePrefix: Uint8Array;
}

const INFO_KEY_CHECK = utf8('sotto-backup-v1/key-check');
const INFO_HEADER_MAC = utf8('sotto-backup-v1/header-mac');
const INFO_CHUNK_KEY = utf8('sotto-backup-v1/chunk-key');
const INFO_NONCE_PREFIX = utf8('sotto-backup-v1/nonce-prefix');

export function deriveArchiveKeys(backupKey: BackupKey, backupId: Uint8Array): ArchiveKeys {
  const ikm = backupKeyMaterial(backupKey);
  return {
    keyCheck: hkdfSha256(ikm, backupId, INFO_KEY_CHECK, KEY_CHECK_LENGTH),
    headerMacKey: hkdfSha256(ikm, backupId, INFO_HEADER_MAC, 32),
    chunkKey: hkdfSha256(ikm, backupId, INFO_CHUNK_KEY, 32),
    noncePrefix: hkdfSha256(ikm, backupId, INFO_NONCE_PREFIX, 4),
  };
}

export function wipeArchiveKeys(keys: ArchiveKeys): void {
  keys.headerMacKey.fill(0);
  keys.chunkKey.fill(0);
  keys.noncePrefix.fill(0);
}

function compressionId(compression: Compression): number {
  switch (compression) {
    case 'none':
      return COMPRESSION_NONE;
    case 'deflate-raw':
      return COMPRESSION_DEFLATE_RAW;
  }
}

/** Builds and MACs a header. */
export function encodeHeader(
  fields: {
    readonly backupId: Uint8Array;
    readonly compression: Compression;
    readonly chunkSize: number;
    readonly keySlots: readonly KeySlot[];
  },
  keys: ArchiveKeys,
): Uint8Array {
  if (fields.keySlots.length > MAX_KEY_SLOTS) {
    throw new BackupError('INVALID_ARGUMENT', `at most ${MAX_KEY_SLOTS} key slots`);
  }
  let length = MIN_HEADER_LENGTH;
  for (const slot of fields.keySlots) {
    if (
      !Number.isInteger(slot.type) ||
      slot.type < 1 ||
      slot.type > 255 ||
      !(slot.data instanceof Uint8Array) ||
      slot.data.length > MAX_KEY_SLOT_LENGTH
    ) {
      throw new BackupError('INVALID_ARGUMENT', 'a key slot has a type 1..255 and ≤ 512 bytes');
    }
    length += 3 + slot.data.length;
  }
  if (length > MAX_HEADER_LENGTH) {
    throw new BackupError('INVALID_ARGUMENT', 'key slots make the header too long');
  }
  const out = new Uint8Array(length);
  out.set(MAGIC, 0);
  writeU16(out, 8, FORMAT_VERSION);
  writeU16(out, 10, length);
  out.set(fields.backupId, 12);
  out[28] = KDF_HKDF_SHA256;
  out[29] = AEAD_AES_256_GCM;
  out[30] = compressionId(fields.compression);
  out[31] = PADDING_PADME;
  writeU32(out, 32, fields.chunkSize);
  out.set(keys.keyCheck, 36);
  out[52] = fields.keySlots.length;
  let offset = FIXED_LENGTH;
  for (const slot of fields.keySlots) {
    out[offset] = slot.type;
    writeU16(out, offset + 1, slot.data.length);
    out.set(slot.data, offset + 3);
    offset += 3 + slot.data.length;
  }
  out.set(hmacSha256(keys.headerMacKey, out.subarray(0, offset)), offset);
  return out;
}

/**
 * Checks the 12-byte prefix and returns the total header length. Throws BAD_HEADER for another
 * file type or an impossible length, UNSUPPORTED_VERSION for a version other than 1.
 */
export function parseHeaderPrefix(prefix: Uint8Array): number {
  for (let i = 0; i < MAGIC.length; i++) {
    if (prefix[i] !== MAGIC[i]) throw new BackupError('BAD_HEADER', 'not a Sotto backup (magic)');
  }
  const version = readU16(prefix, 8);
  if (version !== FORMAT_VERSION) {
    throw new BackupError(
      'UNSUPPORTED_VERSION',
      `archive format version ${version}; this reader speaks ${FORMAT_VERSION}`,
    );
  }
  const length = readU16(prefix, 10);
  if (length < MIN_HEADER_LENGTH || length > MAX_HEADER_LENGTH) {
    throw new BackupError('BAD_HEADER', `header length ${length} is out of range`);
  }
  return length;
}

/** Parses a whole header (prefix already checked). Does not authenticate it: see verifyHeader. */
export function parseHeader(bytes: Uint8Array): BackupHeader {
  const length = parseHeaderPrefix(bytes);
  if (bytes.length !== length) throw new BackupError('BAD_HEADER', 'header is cut short');
  if (bytes[28] !== KDF_HKDF_SHA256) {
    throw new BackupError('UNSUPPORTED_VERSION', `unknown key derivation ${bytes[28]}`);
  }
  if (bytes[29] !== AEAD_AES_256_GCM) {
    throw new BackupError('UNSUPPORTED_VERSION', `unknown chunk cipher ${bytes[29]}`);
  }
  let compression: Compression;
  if (bytes[30] === COMPRESSION_NONE) compression = 'none';
  else if (bytes[30] === COMPRESSION_DEFLATE_RAW) compression = 'deflate-raw';
  else throw new BackupError('UNSUPPORTED_VERSION', `unknown compression ${bytes[30]}`);
  if (bytes[31] !== PADDING_PADME) {
    throw new BackupError('UNSUPPORTED_VERSION', `unknown padding scheme ${bytes[31]}`);
  }
  const chunkSize = readU32(bytes, 32);
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new BackupError('BAD_HEADER', `chunk size ${chunkSize} is out of range`);
  }
  const slotCount = bytes[52]!;
  if (slotCount > MAX_KEY_SLOTS) throw new BackupError('BAD_HEADER', 'too many key slots');
  const macOffset = length - HEADER_MAC_LENGTH;
  const keySlots: KeySlot[] = [];
  let offset = FIXED_LENGTH;
  for (let i = 0; i < slotCount; i++) {
    if (offset + 3 > macOffset) throw new BackupError('BAD_HEADER', 'key slots overrun the header');
    const type = bytes[offset]!;
    const slotLength = readU16(bytes, offset + 1);
    if (slotLength > MAX_KEY_SLOT_LENGTH || offset + 3 + slotLength > macOffset) {
      throw new BackupError('BAD_HEADER', 'a key slot overruns the header');
    }
    keySlots.push({ type, data: bytes.slice(offset + 3, offset + 3 + slotLength) });
    offset += 3 + slotLength;
  }
  if (offset !== macOffset) throw new BackupError('BAD_HEADER', 'header has unparsed bytes');
  return {
    version: FORMAT_VERSION,
    backupId: bytes.slice(12, 28),
    compression,
    chunkSize,
    keyCheck: bytes.slice(36, 52),
    keySlots,
    mac: bytes.slice(macOffset),
    bytes,
  };
}

/** BAD_KEY if `keys` were derived from another backup key; BAD_HEADER if the MAC fails. */
export function verifyHeader(header: BackupHeader, keys: ArchiveKeys): void {
  if (!constantTimeEqual(header.keyCheck, keys.keyCheck)) {
    throw new BackupError('BAD_KEY', 'the backup key does not open this archive');
  }
  const macOffset = header.bytes.length - HEADER_MAC_LENGTH;
  const expected = hmacSha256(keys.headerMacKey, header.bytes.subarray(0, macOffset));
  if (!constantTimeEqual(expected, header.mac)) {
    throw new BackupError('BAD_HEADER', 'the header fails authentication');
  }
}
