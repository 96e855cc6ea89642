/**
 * A one-line progress bar for long tasks (ARCHITECTURE.md "CLI: a progress bar on every long
 * task"): done/total as a bar and a percentage, the amount, the rate and an estimate of the time
 * left. On a terminal the line is redrawn in place (at most every PROGRESS_REDRAW_MS); elsewhere
 * (pipes, logs) only the final line is written. It goes to stderr, so stdout stays for results.
 */
import { PROGRESS_BAR_WIDTH, PROGRESS_REDRAW_MS } from '../limits.js';

export interface ProgressOutput {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** `1.2 MB`, `512 B`, `3.4 GB` (decimal units, like disk sizes). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]!}`;
}

/** `0:07`, `12:34`, `1:02:03`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

export interface ProgressState {
  /** Units done (bytes or records). */
  readonly done: number;
  /** Units expected, if known. */
  readonly total?: number;
  /** How to show an amount of units. */
  readonly unit: 'bytes' | 'records';
}

/** The text of one progress line (without a line ending). */
export function progressLine(
  label: string,
  state: ProgressState,
  elapsedMs: number,
  width = PROGRESS_BAR_WIDTH,
): string {
  const amount = (n: number): string =>
    state.unit === 'bytes' ? formatBytes(n) : `${n.toLocaleString('en-US')} records`;
  const rate = elapsedMs > 0 ? (state.done / elapsedMs) * 1000 : 0;
  const rateText =
    state.unit === 'bytes' ? `${formatBytes(Math.round(rate))}/s` : `${Math.round(rate)}/s`;
  const parts = [label];
  if (state.total !== undefined && state.total > 0) {
    const fraction = Math.min(1, state.done / state.total);
    const filled = Math.round(fraction * width);
    parts.push(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`);
    parts.push(
      `${Math.floor(fraction * 100)
        .toString()
        .padStart(3)}%`,
    );
    parts.push(`${amount(state.done)} of ${amount(state.total)}`);
    parts.push(rateText);
    if (fraction < 1 && rate > 0) {
      parts.push(`about ${formatDuration(((state.total - state.done) / rate) * 1000)} left`);
    } else if (fraction >= 1) {
      parts.push(`in ${formatDuration(elapsedMs)}`);
    }
  } else {
    parts.push(amount(state.done), rateText);
  }
  return parts.join('  ');
}

export class ProgressBar {
  readonly #started: number;
  #lastDraw = 0;
  #last: ProgressState | null = null;
  #drawn = false;

  constructor(
    private readonly label: string,
    private readonly output: ProgressOutput = process.stderr,
    private readonly now: () => number = Date.now,
  ) {
    this.#started = now();
  }

  update(state: ProgressState): void {
    this.#last = state;
    if (this.output.isTTY !== true) return;
    const t = this.now();
    if (t - this.#lastDraw < PROGRESS_REDRAW_MS) return;
    this.#lastDraw = t;
    this.output.write(`\r\u001b[2K${progressLine(this.label, state, t - this.#started)}`);
    this.#drawn = true;
  }

  /** Writes the final state on its own line. */
  finish(state?: ProgressState): void {
    const last = state ?? this.#last;
    if (last === null) return;
    const line = progressLine(this.label, last, this.now() - this.#started);
    this.output.write(`${this.#drawn ? '\r\u001b[2K' : ''}${line}\n`);
  }

  /** Clears the line (after a failure), so an error message starts at the left. */
  abandon(): void {
    if (this.#drawn) this.output.write('\r\u001b[2K');
  }
}
