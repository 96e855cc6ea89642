/**
 * The `ClientStore` port's conformance suite (CONVENTIONS.md, test layer 5). Every client-store
 * adapter runs it from its own tests:
 *
 * ```ts
 * runClientStoreConformance('sqlite', () => openSqliteClientStore({ ... }), {
 *   reopen: async (store) => { await store.close(); return openSqliteClientStore({ ... }); },
 * });
 * ```
 *
 * It checks the promises written in `../client-store.ts`, never an implementation detail:
 * get/put/delete, namespaces kept apart, `list` ordered by key, values returned as copies, binary,
 * empty and large values, unicode keys and namespaces, transactions that commit together or roll
 * back on a throw, reads that never see another transaction's uncommitted writes, concurrent
 * transactions run one at a time, and (with `reopen`) data that survives closing the store.
 *
 * Key order is checked on keys whose UTF-16 and UTF-8 orders agree (ASCII and the BMP below the
 * surrogates): the SDK never relies on the order of keys outside that range.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClientStore } from '../client-store.js';

export interface ClientStoreConformanceOptions {
  /**
   * Close `store` and open the same underlying storage again. When given, the suite also checks
   * that committed data (and only committed data) survives a reopen.
   */
  readonly reopen?: (store: ClientStore) => Promise<ClientStore>;
  /** Size of the "large value" case, in bytes (default 4 MiB). */
  readonly largeValueBytes?: number;
}

const enc = new TextEncoder();

function bytes(text: string): Uint8Array {
  return enc.encode(text);
}

function allByteValues(): Uint8Array {
  const out = new Uint8Array(512);
  for (let i = 0; i < out.length; i++) out[i] = i & 0xff;
  return out;
}

/** Deterministic, incompressible-looking filler (xorshift32), so a compressing adapter is still tested on size. */
function filler(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A promise with its resolver exposed, to hold a transaction open while the test looks around. */
function gate(): { readonly wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

/** Let pending promise callbacks and I/O run (adapters may do real I/O between steps). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function keysOf(entries: ReadonlyArray<readonly [string, Uint8Array]>): string[] {
  return entries.map(([key]) => key);
}

export function runClientStoreConformance(
  name: string,
  factory: () => ClientStore | Promise<ClientStore>,
  options: ClientStoreConformanceOptions = {},
): void {
  describe(`ClientStore conformance: ${name}`, () => {
    let store: ClientStore;
    let closed = false;

    beforeEach(async () => {
      store = await factory();
      closed = false;
    });
    afterEach(async () => {
      if (!closed) await store.close();
    });

    describe('get, put, delete', () => {
      it('returns undefined for a key never written', async () => {
        expect(await store.get('ns', 'missing')).toBeUndefined();
        expect(await store.list('empty-namespace')).toEqual([]);
      });

      it('reads back what was written, and the latest write wins', async () => {
        await store.put('ns', 'k', bytes('one'));
        expect(await store.get('ns', 'k')).toEqual(bytes('one'));
        await store.put('ns', 'k', bytes('two, longer'));
        expect(await store.get('ns', 'k')).toEqual(bytes('two, longer'));
        await store.put('ns', 'k', bytes('3'));
        expect(await store.get('ns', 'k')).toEqual(bytes('3'));
      });

      it('returns values as Uint8Array', async () => {
        await store.put('ns', 'k', bytes('x'));
        const value = await store.get('ns', 'k');
        expect(value).toBeInstanceOf(Uint8Array);
        const listed = await store.list('ns');
        expect(listed[0]?.[1]).toBeInstanceOf(Uint8Array);
      });

      it('deletes a key, and deleting a missing key is harmless', async () => {
        await store.put('ns', 'a', bytes('A'));
        await store.put('ns', 'b', bytes('B'));
        await store.delete('ns', 'a');
        expect(await store.get('ns', 'a')).toBeUndefined();
        expect(await store.get('ns', 'b')).toEqual(bytes('B'));
        await store.delete('ns', 'a');
        await store.delete('never-used', 'nothing');
        expect(keysOf(await store.list('ns'))).toEqual(['b']);
        await store.put('ns', 'a', bytes('again'));
        expect(await store.get('ns', 'a')).toEqual(bytes('again'));
      });

      it('keeps namespaces apart, including ones that are prefixes of each other', async () => {
        await store.put('ns', 'k', bytes('plain'));
        await store.put('ns2', 'k', bytes('two'));
        await store.put('n', 'sk', bytes('split'));
        await store.put('ns:', 'k', bytes('colon'));
        await store.put('', 'k', bytes('empty namespace'));
        expect(await store.get('ns', 'k')).toEqual(bytes('plain'));
        expect(await store.get('ns2', 'k')).toEqual(bytes('two'));
        expect(await store.get('n', 'sk')).toEqual(bytes('split'));
        expect(await store.get('n', 'k')).toBeUndefined();
        expect(await store.get('ns:', 'k')).toEqual(bytes('colon'));
        expect(await store.get('', 'k')).toEqual(bytes('empty namespace'));
        expect(await store.list('ns')).toEqual([['k', bytes('plain')]]);
        await store.delete('ns', 'k');
        expect(await store.get('ns2', 'k')).toEqual(bytes('two'));
        expect(await store.get('ns:', 'k')).toEqual(bytes('colon'));
      });

      it('accepts the empty key and keys that look like separators or paths', async () => {
        const keys = ['', '/', 'a/b', 'a\u0000b', 'a:b', '%00', ' ', 'a b', "it's", '"q"', '\\'];
        for (const [i, key] of keys.entries()) await store.put('odd', key, Uint8Array.of(i));
        for (const [i, key] of keys.entries()) {
          expect(await store.get('odd', key)).toEqual(Uint8Array.of(i));
        }
        expect((await store.list('odd')).length).toBe(keys.length);
      });

      it('stores a copy: changing the written or the returned buffer changes nothing stored', async () => {
        const input = bytes('original');
        await store.put('ns', 'k', input);
        input.fill(0x21);
        const first = await store.get('ns', 'k');
        expect(first).toEqual(bytes('original'));
        first!.fill(0x22);
        expect(await store.get('ns', 'k')).toEqual(bytes('original'));
        const listed = await store.list('ns');
        listed[0]![1].fill(0x23);
        expect(await store.get('ns', 'k')).toEqual(bytes('original'));
      });

      it('reads a value written from a view into a larger buffer exactly', async () => {
        const backing = filler(64, 7);
        const view = backing.subarray(10, 20);
        await store.put('ns', 'view', view);
        expect(await store.get('ns', 'view')).toEqual(backing.slice(10, 20));
      });
    });

    describe('list', () => {
      it('returns every entry of the namespace ordered by key', async () => {
        const keys = [
          'b',
          'a',
          'a10',
          'a2',
          'A',
          'Z',
          '0',
          '9',
          '10',
          'ab',
          'a b',
          '~',
          'é',
          'ü',
          '中',
        ];
        // Written in an order that is neither sorted nor reverse-sorted.
        const writeOrder = keys.map((_, i) => keys[(i * 7) % keys.length]!);
        expect(new Set(writeOrder).size).toBe(keys.length);
        for (const key of writeOrder) await store.put('order', key, bytes(`v:${key}`));
        await store.put('order-other', 'aa', bytes('not listed'));
        const listed = await store.list('order');
        const expected = [...keys].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
        expect(keysOf(listed)).toEqual(expected);
        for (const [key, value] of listed) expect(value).toEqual(bytes(`v:${key}`));
      });

      it('orders keys that encode numbers by their string form (callers pad them)', async () => {
        const padded = [5, 40, 300, 2, 1_000_000].map((n) => n.toString().padStart(12, '0'));
        for (const key of padded) await store.put('num', key, bytes(key));
        expect(keysOf(await store.list('num'))).toEqual(
          [2, 5, 40, 300, 1_000_000].map((n) => n.toString().padStart(12, '0')),
        );
      });

      it('reflects deletes and overwrites', async () => {
        for (const key of ['c', 'a', 'b']) await store.put('ns', key, bytes(key));
        await store.delete('ns', 'b');
        await store.put('ns', 'a', bytes('A2'));
        expect(await store.list('ns')).toEqual([
          ['a', bytes('A2')],
          ['c', bytes('c')],
        ]);
      });

      it('lists a namespace of a thousand entries completely', async () => {
        await store.transaction(async (tx) => {
          for (let i = 0; i < 1000; i++) {
            await tx.put(
              'many',
              `k${i.toString().padStart(4, '0')}`,
              Uint8Array.of(i & 0xff, i >> 8),
            );
          }
        });
        const listed = await store.list('many');
        expect(listed.length).toBe(1000);
        for (const [i, [key, value]] of listed.entries()) {
          expect(key).toBe(`k${i.toString().padStart(4, '0')}`);
          expect(value).toEqual(Uint8Array.of(i & 0xff, i >> 8));
        }
      });
    });

    describe('values', () => {
      it('round-trips every byte value, including zeros and 0xff', async () => {
        const value = allByteValues();
        await store.put('bin', 'all', value);
        expect(await store.get('bin', 'all')).toEqual(value);
        await store.put('bin', 'zeros', new Uint8Array(100));
        expect(await store.get('bin', 'zeros')).toEqual(new Uint8Array(100));
        // Bytes that are not valid UTF-8: an adapter that stores values as text would break them.
        const invalidUtf8 = Uint8Array.of(
          0xc3,
          0x28,
          0xa0,
          0xa1,
          0xe2,
          0x28,
          0xa1,
          0xf0,
          0x90,
          0x28,
          0xbc,
          0xff,
        );
        await store.put('bin', 'invalid-utf8', invalidUtf8);
        expect(await store.get('bin', 'invalid-utf8')).toEqual(invalidUtf8);
      });

      it('keeps an empty value distinct from a missing key', async () => {
        await store.put('bin', 'empty', new Uint8Array(0));
        const value = await store.get('bin', 'empty');
        expect(value).toBeInstanceOf(Uint8Array);
        expect(value!.length).toBe(0);
        expect(await store.list('bin')).toEqual([['empty', new Uint8Array(0)]]);
      });

      it('round-trips a large value', async () => {
        const size = options.largeValueBytes ?? 4 * 1024 * 1024;
        const value = filler(size, 0x5eed);
        await store.put('bin', 'large', value);
        const back = await store.get('bin', 'large');
        expect(back?.length).toBe(size);
        expect(Buffer.from(back!).equals(Buffer.from(value))).toBe(true);
      });

      it('accepts a Node Buffer as a value and returns equal bytes', async () => {
        await store.put('bin', 'buffer', Buffer.from('buffered'));
        const back = await store.get('bin', 'buffer');
        expect(Buffer.from(back!).toString()).toBe('buffered');
      });
    });

    describe('unicode keys and namespaces', () => {
      const names = [
        'emoji 😀🔐',
        '中文 名字',
        'Ελληνικά',
        'עברית',
        'a\u0301', // "á" decomposed (NFD)
        '\u00e1', // "á" precomposed (NFC): a different key
        '\uD83D\uDE00 surrogate pair',
        'ﬁ ligature',
        'zero\u200bwidth',
      ];

      it('round-trips unicode keys and keeps canonically-equivalent keys distinct', async () => {
        for (const [i, key] of names.entries()) await store.put('unicode', key, Uint8Array.of(i));
        for (const [i, key] of names.entries()) {
          expect(await store.get('unicode', key)).toEqual(Uint8Array.of(i));
        }
        expect(new Set(keysOf(await store.list('unicode')))).toEqual(new Set(names));
      });

      it('round-trips unicode namespaces, each kept apart', async () => {
        for (const [i, ns] of names.entries()) await store.put(ns, 'k', Uint8Array.of(i));
        for (const [i, ns] of names.entries()) {
          expect(await store.get(ns, 'k')).toEqual(Uint8Array.of(i));
          expect(await store.list(ns)).toEqual([['k', Uint8Array.of(i)]]);
        }
      });

      it('handles long keys', async () => {
        const key = 'k'.repeat(300) + '😀'.repeat(100);
        await store.put('long', key, bytes('v'));
        expect(await store.get('long', key)).toEqual(bytes('v'));
        expect(await store.get('long', key.slice(0, -2))).toBeUndefined();
      });
    });

    describe('transactions', () => {
      it('commits every write together and returns the function result', async () => {
        await store.put('tx', 'gone', bytes('to delete'));
        const result = await store.transaction(async (tx) => {
          await tx.put('tx', 'a', bytes('A'));
          await tx.put('tx-other', 'b', bytes('B'));
          await tx.delete('tx', 'gone');
          return 42;
        });
        expect(result).toBe(42);
        expect(await store.get('tx', 'a')).toEqual(bytes('A'));
        expect(await store.get('tx-other', 'b')).toEqual(bytes('B'));
        expect(await store.get('tx', 'gone')).toBeUndefined();
      });

      it('sees its own writes and deletes through get and list', async () => {
        await store.put('tx', 'x', bytes('before'));
        await store.put('tx', 'y', bytes('y'));
        await store.transaction(async (tx) => {
          expect(await tx.get('tx', 'x')).toEqual(bytes('before'));
          await tx.put('tx', 'x', bytes('inside'));
          expect(await tx.get('tx', 'x')).toEqual(bytes('inside'));
          await tx.delete('tx', 'y');
          expect(await tx.get('tx', 'y')).toBeUndefined();
          await tx.put('tx', 'a', bytes('new'));
          expect(await tx.list('tx')).toEqual([
            ['a', bytes('new')],
            ['x', bytes('inside')],
          ]);
          await tx.delete('tx', 'a');
          await tx.put('tx', 'y', bytes('y2'));
          expect(keysOf(await tx.list('tx'))).toEqual(['x', 'y']);
        });
        expect(await store.list('tx')).toEqual([
          ['x', bytes('inside')],
          ['y', bytes('y2')],
        ]);
      });

      it('rolls back every write when the function throws, and rethrows that error', async () => {
        await store.put('tx', 'kept', bytes('original'));
        const failure = new Error('boom');
        await expect(
          store.transaction(async (tx) => {
            await tx.put('tx', 'kept', bytes('changed'));
            await tx.put('tx', 'new', bytes('new'));
            await tx.put('tx-elsewhere', 'k', bytes('elsewhere'));
            await tx.delete('tx', 'kept');
            await tx.put('tx', 'kept', bytes('changed again'));
            throw failure;
          }),
        ).rejects.toBe(failure);
        expect(await store.get('tx', 'kept')).toEqual(bytes('original'));
        expect(await store.get('tx', 'new')).toBeUndefined();
        expect(await store.list('tx-elsewhere')).toEqual([]);
        expect(keysOf(await store.list('tx'))).toEqual(['kept']);
      });

      it('rolls back a delete when the function throws', async () => {
        await store.put('tx', 'k', bytes('stays'));
        await expect(
          store.transaction(async (tx) => {
            await tx.delete('tx', 'k');
            throw new Error('abort');
          }),
        ).rejects.toThrow('abort');
        expect(await store.get('tx', 'k')).toEqual(bytes('stays'));
      });

      it('rolls back when the function throws synchronously after writing', async () => {
        await expect(
          store.transaction((tx) => {
            void tx.put('tx', 'sync', bytes('x'));
            throw new Error('sync failure');
          }),
        ).rejects.toThrow('sync failure');
        await settle();
        expect(await store.get('tx', 'sync')).toBeUndefined();
      });

      it('keeps working after a rolled-back transaction', async () => {
        await expect(
          store.transaction(async () => {
            await Promise.resolve();
            throw new Error('first fails');
          }),
        ).rejects.toThrow('first fails');
        await store.transaction(async (tx) => {
          await tx.put('tx', 'after', bytes('ok'));
        });
        await store.put('tx', 'plain', bytes('ok'));
        expect(await store.get('tx', 'after')).toEqual(bytes('ok'));
        expect(await store.get('tx', 'plain')).toEqual(bytes('ok'));
      });

      it('hides uncommitted writes from reads outside the transaction', async () => {
        await store.put('iso', 'k', bytes('committed'));
        const inside = gate();
        const release = gate();
        const running = store.transaction(async (tx) => {
          await tx.put('iso', 'k', bytes('uncommitted'));
          await tx.put('iso', 'fresh', bytes('uncommitted'));
          inside.open();
          await release.wait;
        });
        await inside.wait;
        expect(await store.get('iso', 'k')).toEqual(bytes('committed'));
        expect(await store.get('iso', 'fresh')).toBeUndefined();
        expect(keysOf(await store.list('iso'))).toEqual(['k']);
        release.open();
        await running;
        expect(await store.get('iso', 'k')).toEqual(bytes('uncommitted'));
        expect(await store.get('iso', 'fresh')).toEqual(bytes('uncommitted'));
      });

      it('runs concurrent transactions one at a time (no lost updates)', async () => {
        await store.put('counter', 'n', Uint8Array.of(0, 0));
        const increments = 50;
        await Promise.all(
          Array.from({ length: increments }, (_, i) =>
            store.transaction(async (tx) => {
              const current = await tx.get('counter', 'n');
              const n = current![0]! | (current![1]! << 8);
              // Yield between read and write so overlapping transactions would interleave.
              await new Promise<void>((resolve) => setTimeout(resolve, i % 3));
              await tx.put('counter', 'n', Uint8Array.of((n + 1) & 0xff, (n + 1) >> 8));
            }),
          ),
        );
        const final = await store.get('counter', 'n');
        expect(final![0]! | (final![1]! << 8)).toBe(increments);
      });

      it('starts a transaction only after the previous one finished, in call order', async () => {
        const events: string[] = [];
        const first = gate();
        const one = store.transaction(async (tx) => {
          events.push('1 start');
          await first.wait;
          await tx.put('order', 'k', bytes('1'));
          events.push('1 end');
        });
        const two = store.transaction(async (tx) => {
          events.push('2 start');
          expect(await tx.get('order', 'k')).toEqual(bytes('1'));
          await tx.put('order', 'k', bytes('2'));
          events.push('2 end');
        });
        const three = store.transaction(async (tx) => {
          events.push('3 start');
          expect(await tx.get('order', 'k')).toEqual(bytes('2'));
          events.push('3 end');
          return 'three';
        });
        await settle();
        expect(events).toEqual(['1 start']);
        first.open();
        expect(await Promise.all([one, two, three])).toEqual([undefined, undefined, 'three']);
        expect(events).toEqual(['1 start', '1 end', '2 start', '2 end', '3 start', '3 end']);
      });

      it('does not roll back a plain write made outside a transaction that later fails', async () => {
        const inside = gate();
        const release = gate();
        const failing = store.transaction(async (tx) => {
          await tx.put('mix', 'tx', bytes('tx'));
          inside.open();
          await release.wait;
          throw new Error('roll back');
        });
        await inside.wait;
        const plain = store.put('mix', 'plain', bytes('plain'));
        release.open();
        await expect(failing).rejects.toThrow('roll back');
        await plain;
        expect(await store.get('mix', 'plain')).toEqual(bytes('plain'));
        expect(await store.get('mix', 'tx')).toBeUndefined();
      });

      it('lets a failed transaction leave the next queued one unaffected', async () => {
        const release = gate();
        const failing = store.transaction(async (tx) => {
          await tx.put('queue', 'a', bytes('from failed'));
          await release.wait;
          throw new Error('fails');
        });
        const next = store.transaction(async (tx) => {
          expect(await tx.get('queue', 'a')).toBeUndefined();
          await tx.put('queue', 'b', bytes('from next'));
        });
        release.open();
        await expect(failing).rejects.toThrow('fails');
        await next;
        expect(await store.list('queue')).toEqual([['b', bytes('from next')]]);
      });

      it('commits binary, empty and large values written inside a transaction', async () => {
        const large = filler(256 * 1024, 99);
        await store.transaction(async (tx) => {
          await tx.put('txbin', 'all', allByteValues());
          await tx.put('txbin', 'empty', new Uint8Array(0));
          await tx.put('txbin', 'large', large);
          await tx.put('txbin', '😀', bytes('emoji key'));
        });
        expect(await store.get('txbin', 'all')).toEqual(allByteValues());
        expect((await store.get('txbin', 'empty'))?.length).toBe(0);
        expect(Buffer.from((await store.get('txbin', 'large'))!).equals(Buffer.from(large))).toBe(
          true,
        );
        expect(await store.get('txbin', '😀')).toEqual(bytes('emoji key'));
      });
    });

    describe('behaves like a map (property)', () => {
      type Op =
        | {
            readonly kind: 'put';
            readonly ns: string;
            readonly key: string;
            readonly value: Uint8Array;
          }
        | { readonly kind: 'delete'; readonly ns: string; readonly key: string }
        | { readonly kind: 'tx'; readonly ops: ReadonlyArray<Op>; readonly fail: boolean };
      const ns = fc.constantFrom('a', 'b', 'é');
      const key = fc.constantFrom('', 'k1', 'k2', 'k10', 'K', '😀', 'x/y');
      const value = fc.uint8Array({ maxLength: 24 });
      const simple: fc.Arbitrary<Op> = fc.oneof(
        fc.record({ kind: fc.constant('put' as const), ns, key, value }),
        fc.record({ kind: fc.constant('delete' as const), ns, key }),
      );
      const op: fc.Arbitrary<Op> = fc.oneof(
        { weight: 3, arbitrary: simple },
        {
          weight: 1,
          arbitrary: fc.record({
            kind: fc.constant('tx' as const),
            ops: fc.array(simple, { maxLength: 6 }),
            fail: fc.boolean(),
          }),
        },
      );

      it('matches a model under random puts, deletes and transactions', async () => {
        let round = 0;
        await fc.assert(
          fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
            // A distinct namespace prefix per run keeps runs apart on one store.
            const prefix = `p${round++}:`;
            const model = new Map<string, Map<string, Uint8Array>>();
            const apply = (m: typeof model, o: Op): void => {
              if (o.kind === 'tx') return;
              let table = m.get(o.ns);
              if (table === undefined) m.set(o.ns, (table = new Map<string, Uint8Array>()));
              if (o.kind === 'put') table.set(o.key, o.value);
              else table.delete(o.key);
            };
            for (const o of ops) {
              if (o.kind === 'put') await store.put(prefix + o.ns, o.key, o.value);
              else if (o.kind === 'delete') await store.delete(prefix + o.ns, o.key);
              else {
                const attempt = store.transaction(async (tx) => {
                  for (const inner of o.ops) {
                    if (inner.kind === 'put')
                      await tx.put(prefix + inner.ns, inner.key, inner.value);
                    else if (inner.kind === 'delete') await tx.delete(prefix + inner.ns, inner.key);
                  }
                  if (o.fail) throw new Error('planned rollback');
                });
                if (o.fail) await expect(attempt).rejects.toThrow('planned rollback');
                else {
                  await attempt;
                  for (const inner of o.ops) apply(model, inner);
                }
              }
              apply(model, o);
            }
            for (const name of ['a', 'b', 'é']) {
              const expected = [
                ...(model.get(name) ?? new Map<string, Uint8Array>()).entries(),
              ].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
              expect(await store.list(prefix + name)).toEqual(expected);
            }
          }),
          { numRuns: 40 },
        );
      });
    });

    const reopen = options.reopen;
    if (reopen !== undefined) {
      describe('durability', () => {
        it('keeps committed data, and only committed data, across a reopen', async () => {
          await store.put('dur', 'plain', bytes('plain'));
          await store.put('dur', 'deleted', bytes('x'));
          await store.delete('dur', 'deleted');
          await store.transaction(async (tx) => {
            await tx.put('dur', 'tx', allByteValues());
            await tx.put('dur-😀', 'ключ', bytes('unicode'));
          });
          await expect(
            store.transaction(async (tx) => {
              await tx.put('dur', 'rolled-back', bytes('no'));
              throw new Error('rollback');
            }),
          ).rejects.toThrow('rollback');
          const reopened = await reopen(store);
          store = reopened;
          expect(await store.get('dur', 'plain')).toEqual(bytes('plain'));
          expect(await store.get('dur', 'deleted')).toBeUndefined();
          expect(await store.get('dur', 'tx')).toEqual(allByteValues());
          expect(await store.get('dur-😀', 'ключ')).toEqual(bytes('unicode'));
          expect(await store.get('dur', 'rolled-back')).toBeUndefined();
          expect(keysOf(await store.list('dur'))).toEqual(['plain', 'tx']);
        });
      });
    }

    describe('close', () => {
      it('lets writes issued before close finish instead of failing them', async () => {
        const writes = Array.from({ length: 10 }, (_, i) =>
          store.put('close', `k${i}`, Uint8Array.of(i)),
        );
        const closing = store.close();
        closed = true;
        await expect(Promise.all(writes)).resolves.toHaveLength(10);
        await closing;
      });
    });
  });
}
