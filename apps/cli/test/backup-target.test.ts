// Backup locations of `sotto backup` (--to / --from): relay, dir:<path>, s3:<bucket>[/<prefix>].
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError } from '../src/cli-error.js';
import { parseTarget } from '../src/commands/backup.js';

describe('backup locations', () => {
  it('parses the three kinds', () => {
    expect(parseTarget('relay')).toEqual({ kind: 'relay' });
    expect(parseTarget('dir:backups')).toEqual({ kind: 'dir', path: resolve('backups') });
    expect(parseTarget('dir:/media/usb')).toEqual({ kind: 'dir', path: '/media/usb' });
    expect(parseTarget('s3:my-bucket')).toEqual({ kind: 's3', bucket: 'my-bucket', prefix: '' });
    expect(parseTarget('s3:my-bucket/phone')).toEqual({
      kind: 's3',
      bucket: 'my-bucket',
      prefix: 'phone/',
    });
  });

  it('refuses anything else with a usage error', () => {
    for (const bad of ['', 'dir:', 'ftp:x', 's3:', 's3:A_B', 'Relay']) {
      expect(() => parseTarget(bad), bad).toThrow(CliError);
    }
  });
});
