// The SQLite adapter runs the storage port's conformance suite, in memory and on a file (WAL).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { describeStorageConformance } from '@sotto/server/testing';
import { openSqliteStorage } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sotto-sqlite-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeStorageConformance('sqlite in memory', () => openSqliteStorage({ filename: ':memory:' }));
describeStorageConformance('sqlite file (WAL, synchronous=FULL)', () =>
  openSqliteStorage({ filename: join(dir, `db-${n++}.sqlite`) }),
);
