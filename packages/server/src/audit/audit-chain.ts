/**
 * The tamper-evident audit log (ARCHITECTURE.md "Secure by default"): each row's hash is
 * SHA-256(previous row's hash ‖ canonical row), starting from 32 zero bytes. Changing, inserting,
 * reordering or deleting a row in the middle breaks every later hash; `verifyAuditLog` finds the
 * first broken row. Pruning old rows moves the anchor (the last pruned row's seq and hash) forward,
 * so the remaining chain still verifies. What it cannot show: an attacker who rewrites the whole
 * tail consistently; operators who need that should copy the head hash off the machine regularly.
 *
 * Rows hold account ids and event kinds, never phone numbers, codes, tokens or message content.
 */
import { createHash } from 'node:crypto';
import type { AuditAnchor, AuditEventInput, AuditRecord, Storage } from '../ports/storage.js';

export const AUDIT_GENESIS_HASH = new Uint8Array(32);

/** The canonical text of a row: a JSON array in fixed order, details with sorted keys. */
export function canonicalAuditRow(seq: number, e: AuditEventInput): string {
  return JSON.stringify([seq, e.at, e.event, e.accountId, e.deviceId, canonicalDetails(e.details)]);
}

/** Details as stored: JSON with sorted keys, or null. */
export function canonicalDetails(details: AuditEventInput['details']): string | null {
  if (details === null) return null;
  const sorted: Record<string, string | number | boolean> = {};
  for (const k of Object.keys(details).sort()) sorted[k] = details[k]!;
  return JSON.stringify(sorted);
}

export function auditRowHash(prevHash: Uint8Array, seq: number, e: AuditEventInput): Uint8Array {
  return createHash('sha256').update(prevHash).update(canonicalAuditRow(seq, e), 'utf8').digest();
}

export type AuditVerification =
  | { readonly ok: true; readonly rows: number; readonly headHash: Uint8Array }
  | { readonly ok: false; readonly seq: number; readonly reason: string };

/** Verifies rows (in seq order) continuing from `anchor`. */
export function verifyAuditRows(
  anchor: AuditAnchor,
  rows: Iterable<AuditRecord>,
): AuditVerification {
  let prev = anchor.hash;
  let expectedSeq = anchor.seq + 1;
  let count = 0;
  for (const row of rows) {
    if (row.seq !== expectedSeq) {
      return { ok: false, seq: expectedSeq, reason: `row ${expectedSeq} is missing` };
    }
    const hash = auditRowHash(prev, row.seq, row);
    if (!Buffer.from(hash).equals(row.hash)) {
      return { ok: false, seq: row.seq, reason: `row ${row.seq} does not match its hash` };
    }
    prev = row.hash;
    expectedSeq++;
    count++;
  }
  return { ok: true, rows: count, headHash: prev };
}

/** Verifies the whole stored log page by page. */
export async function verifyAuditLog(
  storage: Storage,
  pageSize = 1000,
): Promise<AuditVerification> {
  const anchor = await storage.auditAnchor();
  let cursor = anchor;
  let total = 0;
  for (;;) {
    const page = await storage.readAuditLog(cursor.seq, pageSize);
    if (page.length === 0) return { ok: true, rows: total, headHash: cursor.hash };
    const result = verifyAuditRows(cursor, page);
    if (!result.ok) return result;
    total += result.rows;
    const last = page[page.length - 1]!;
    cursor = { seq: last.seq, hash: last.hash };
  }
}
