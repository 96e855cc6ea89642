// What the CLI prints: safety-number grouping, terminal QR codes, tables, and text from others
// stripped of terminal control sequences.
import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import {
  formatSafetyNumber,
  formatTime,
  receiptLine,
  sanitize,
  table,
  terminalQr,
} from '../src/terminal/render.js';

describe('formatSafetyNumber', () => {
  it('shows 60 digits as three rows of four groups of five, in order', () => {
    const digits = Array.from({ length: 60 }, (_, i) => String((i * 7) % 10)).join('');
    const shown = formatSafetyNumber(digits);
    const rows = shown.split('\n');
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toMatch(/^\d{5} \d{5} \d{5} \d{5}$/);
    expect(shown.replace(/\s/g, '')).toBe(digits);
  });
});

describe('terminalQr', () => {
  it('draws every module of the QR symbol of the payload (two rows per text line)', async () => {
    const payload = Uint8Array.from({ length: 80 }, (_, i) => (i * 31 + 7) & 0xff);
    const drawn = await terminalQr(payload);
    // Independent reading of the half-block drawing: top half / bottom half of each character.
    const symbol = QRCode.create([{ data: payload, mode: 'byte' }], { errorCorrectionLevel: 'M' });
    const size = symbol.modules.size;
    // eslint-disable-next-line no-control-regex
    const lines = drawn.split('\n').map((l) => l.replace(/\u001b\[[0-9;]*m/g, ''));
    // Each character covers two module rows (the drawing starts one quiet row and column early);
    // dark modules are drawn as ink: ▀ top, ▄ bottom, █ both.
    const dark = (x: number, y: number): boolean => {
      const ch = lines[Math.floor((y + 1) / 2)]?.[x + 1];
      return (y + 1) % 2 === 0 ? ch === '▀' || ch === '█' : ch === '▄' || ch === '█';
    };
    let mismatches = 0;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        // BitMatrix.get takes (row, column).
        if (dark(x, y) !== (symbol.modules.get(y, x) === 1)) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
  });
});

describe('sanitize', () => {
  it('removes escape sequences and control characters from text others wrote', () => {
    const hostile = 'hi\u001b[2J\u001b]0;pwned\u0007 there\r\u009b31m';
    const clean = sanitize(hostile);
    // eslint-disable-next-line no-control-regex
    expect(clean).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(clean).toContain('hi');
    expect(clean).toContain(' there');
    expect(sanitize('tab\tand\nnewline stay')).toBe('tab\tand\nnewline stay');
  });
});

describe('table, receipts, time', () => {
  it('aligns columns by characters', () => {
    expect(
      table(
        ['A', 'BB'],
        [
          ['ü', 'x'],
          ['long', 'y'],
        ],
      ),
    ).toBe('A     BB\nü     x\nlong  y\n');
  });

  it('names every status of a sent message distinctly', () => {
    const statuses = ['pending', 'held', 'sent', 'delivered', 'read', 'failed'] as const;
    const lines = statuses.map((s) => receiptLine(s));
    expect(new Set(lines).size).toBe(statuses.length);
    expect(receiptLine('read')).toBe('✓✓ read');
    expect(receiptLine('delivered')).toBe('✓✓ delivered');
  });

  it('shows the time of day today and the date otherwise', () => {
    const now = new Date(2025, 5, 15, 18, 30).getTime();
    expect(formatTime(new Date(2025, 5, 15, 9, 5).getTime(), now)).toBe('09:05');
    expect(formatTime(new Date(2025, 5, 14, 23, 59).getTime(), now)).toBe('2025-06-14 23:59');
  });
});
