// The progress bar of long tasks (terminal/progress.ts): units, rate, estimate, and that a
// non-terminal gets only the final line.
import { describe, expect, it } from 'vitest';
import {
  ProgressBar,
  formatBytes,
  formatDuration,
  progressLine,
} from '../src/terminal/progress.js';

describe('progress', () => {
  it('formats sizes and durations', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1500)).toBe('1.5 kB');
    expect(formatBytes(25_000_000)).toBe('25 MB');
    expect(formatDuration(7_000)).toBe('0:07');
    expect(formatDuration(754_000)).toBe('12:34');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
  });

  it('shows the bar, the rate and the time left from the rate so far', () => {
    const line = progressLine(
      'Restoring',
      { done: 2_000_000, total: 8_000_000, unit: 'bytes' },
      2000,
      8,
    );
    expect(line).toBe('Restoring  [##......]   25%  2.0 MB of 8.0 MB  1.0 MB/s  about 0:06 left');
    const done = progressLine('Backing up', { done: 40, total: 40, unit: 'records' }, 4000, 4);
    expect(done).toBe('Backing up  [####]  100%  40 records of 40 records  10/s  in 0:04');
    const unknown = progressLine('Restoring', { done: 1500, unit: 'bytes' }, 1000);
    expect(unknown).toBe('Restoring  1.5 kB  1.5 kB/s');
  });

  it('redraws in place on a terminal, and writes only the final line elsewhere', () => {
    let t = 0;
    const tty: string[] = [];
    const bar = new ProgressBar('Job', { isTTY: true, write: (s) => tty.push(s) }, () => t);
    t = 500;
    bar.update({ done: 1, total: 2, unit: 'records' });
    t = 550; // within the redraw interval: not drawn
    bar.update({ done: 2, total: 4, unit: 'records' });
    t = 1000;
    bar.finish({ done: 4, total: 4, unit: 'records' });
    expect(tty).toHaveLength(2);
    const CLEAR = '\r\u001b[2K';
    expect(tty[0]!.startsWith(`${CLEAR}Job  [############............]   50%`)).toBe(true);
    expect(tty[1]!.startsWith(`${CLEAR}Job  [########################]  100% `)).toBe(true);
    expect(tty[1]!.endsWith('\n')).toBe(true);

    const piped: string[] = [];
    const quiet = new ProgressBar('Job', { isTTY: false, write: (s) => piped.push(s) }, () => t);
    quiet.update({ done: 1, total: 2, unit: 'records' });
    quiet.finish();
    expect(piped).toEqual([expect.stringMatching(/^Job {2}\[#{12}\.{12}\] {3}50% .*\n$/)]);
  });
});
