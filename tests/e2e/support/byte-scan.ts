/**
 * Byte-level scanning for the "server learns nothing" suite: every encoded form a secret could take
 * in a file or a log (raw bytes, hex in either case, base64 and base64url at each of the three
 * alignments it can have inside a longer encoding), and where those forms occur. SQLite files are
 * mapped back to the b-tree owning each page (the `dbstat` table; WAL frames name their page), so a
 * test can say not only "found" but "found in the accounts table, where the design keeps it".
 */

export interface Needle {
  /** What is searched for, e.g. `plaintext #2 as base64`. */
  readonly label: string;
  readonly bytes: Uint8Array;
}

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

/**
 * The base64 (or base64url) text of `bytes` as it appears inside a longer encoded string: the
 * characters that depend only on `bytes`, for each of the 3 alignments `bytes` can start at.
 */
function base64Middles(bytes: Uint8Array, url: boolean): string[] {
  const out: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const padded = new Uint8Array(shift + bytes.length);
    padded.set(bytes, shift);
    const text = Buffer.from(padded).toString(url ? 'base64url' : 'base64');
    const fullGroups = Math.floor(padded.length / 3);
    const middle = text.slice(shift === 0 ? 0 : 4, fullGroups * 4);
    if (middle.length >= 8) out.push(middle);
  }
  return out;
}

/** Raw, hex (lower and upper case), base64 and base64url forms of `bytes`. */
export function encodedForms(bytes: Uint8Array, label: string): Needle[] {
  const hex = Buffer.from(bytes).toString('hex');
  const forms: Needle[] = [
    { label: `${label} (raw)`, bytes },
    { label: `${label} (hex)`, bytes: ascii(hex) },
    { label: `${label} (HEX)`, bytes: ascii(hex.toUpperCase()) },
  ];
  for (const m of base64Middles(bytes, false))
    forms.push({ label: `${label} (base64)`, bytes: ascii(m) });
  for (const m of base64Middles(bytes, true)) {
    if (!forms.some((f) => Buffer.from(f.bytes).toString() === m)) {
      forms.push({ label: `${label} (base64url)`, bytes: ascii(m) });
    }
  }
  return forms;
}

/** The forms docs/server.md's promise covers for a phone number: +E164, digits only, base64 of both. */
export function phoneNumberForms(number: string): Needle[] {
  const forms: Needle[] = [];
  for (const [text, what] of [
    [number, '+E164'],
    [number.slice(1), 'digits'],
  ] as const) {
    forms.push({ label: `${number} ${what}`, bytes: ascii(text) });
    for (const m of base64Middles(ascii(text), false)) {
      forms.push({ label: `${number} ${what} (base64)`, bytes: ascii(m) });
    }
  }
  return forms;
}

/** Every offset of `needle` in `haystack`. */
export function offsetsOf(haystack: Uint8Array, needle: Uint8Array): number[] {
  const h = Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength);
  const out: number[] = [];
  for (let at = h.indexOf(needle); at >= 0; at = h.indexOf(needle, at + 1)) out.push(at);
  return out;
}

export interface Hit {
  readonly needle: string;
  readonly where: string;
  readonly offset: number;
  /** The SQLite page holding the hit, when the haystack is a database or WAL file. */
  readonly page?: number;
}

/** Hits of each needle in a plain haystack (a log, the -shm file). */
export function scan(haystack: Uint8Array, needles: readonly Needle[], where: string): Hit[] {
  const hits: Hit[] = [];
  for (const n of needles) {
    for (const offset of offsetsOf(haystack, n.bytes))
      hits.push({ needle: n.label, where, offset });
  }
  return hits;
}

/** Hits in a database file, with the page (1-based) each lies in. */
export function scanDatabase(
  file: Uint8Array,
  pageSize: number,
  needles: readonly Needle[],
  where: string,
): Hit[] {
  return scan(file, needles, where).map((h) => ({
    ...h,
    page: Math.floor(h.offset / pageSize) + 1,
  }));
}

/**
 * Hits in a WAL file (32-byte header, then frames of a 24-byte header — page number first — and
 * one page), with the database page each frame carries. Hits in headers have no page.
 */
export function scanWal(
  wal: Uint8Array,
  pageSize: number,
  needles: readonly Needle[],
  where: string,
): Hit[] {
  const view = new DataView(wal.buffer, wal.byteOffset, wal.byteLength);
  const frame = 24 + pageSize;
  return scan(wal, needles, where).map((h) => {
    if (h.offset < 32) return h;
    const start = 32 + Math.floor((h.offset - 32) / frame) * frame;
    if (h.offset < start + 24 || start + 4 > wal.length) return h;
    return { ...h, page: view.getUint32(start) };
  });
}
