/**
 * How the CLI shows things: safety numbers (12 groups of five digits, as Signal shows them), their
 * QR code in the terminal, times, and the lines of a conversation. Pure functions over strings:
 * what is printed is decided here, where it is printed is the caller's business.
 */
import QRCode from 'qrcode';
import type { OutgoingStatus } from '@sotto/client';

/** `123451234512345…` (60 digits) → three lines of four groups of five. */
export function formatSafetyNumber(digits: string): string {
  const groups = digits.match(/.{1,5}/g) ?? [];
  const lines: string[] = [];
  for (let i = 0; i < groups.length; i += 4) lines.push(groups.slice(i, i + 4).join(' '));
  return lines.join('\n');
}

/** A QR code of `payload` (binary, byte mode) drawn with half blocks for a terminal. */
export async function terminalQr(payload: Uint8Array): Promise<string> {
  return QRCode.toString([{ data: payload, mode: 'byte' }], {
    type: 'terminal',
    small: true,
    errorCorrectionLevel: 'M',
  });
}

/** `14:03` today, `2025-11-21 14:03` on another day (local time). */
export function formatTime(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const pad = (n: number): string => n.toString().padStart(2, '0');
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const today = new Date(now);
  if (
    d.getFullYear() === today.getFullYear() &&
    d.getMonth() === today.getMonth() &&
    d.getDate() === today.getDate()
  ) {
    return hm;
  }
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
}

/** Removes terminal control characters from text someone else wrote (no escape-sequence tricks). */
export function sanitize(text: string): string {
  // C0 controls except tab and newline, DEL, C1 controls (ESC sequences start with \u001b or \u009b).
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '\ufffd');
}

/** Status marks of an outgoing message, as chat apps show them. */
export function statusMark(status: OutgoingStatus | undefined): string {
  switch (status) {
    case undefined:
      return '';
    case 'pending':
      return '…';
    case 'held':
      return '⚠ held';
    case 'sent':
      return '✓';
    case 'delivered':
      return '✓✓';
    case 'read':
      return '✓✓ read';
    case 'failed':
      return '✗ failed';
  }
}

/** A status change of a sent message, as one line: `✓✓ delivered`, `✓✓ read`, `⚠ held`. */
export function receiptLine(status: OutgoingStatus): string {
  switch (status) {
    case 'sent':
      return '✓ sent';
    case 'delivered':
      return '✓✓ delivered';
    case 'read':
      return '✓✓ read';
    case 'held':
      return '⚠ held (safety number changed)';
    case 'pending':
      return '… waiting to be sent';
    case 'failed':
      return '✗ not delivered (refused by the server)';
  }
}

/** A left-aligned text table with a header row (widths by code points). */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const width = (s: string): number => [...s].length;
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - width(c))))
      .join('  ')
      .trimEnd() + '\n';
  return line(header) + rows.map(line).join('');
}
