import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { writeHeapSnapshot } from 'node:v8';
const MIB = 1024 * 1024, SIZE = 16 * MIB;
const srv = createServer((req, res) => { let n = 0; req.on('data', (c: Buffer) => { n += c.length; }); req.on('end', () => { res.end(String(n)); }); });
await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
const port = (srv.address() as { port: number }).port;
const block = randomBytes(MIB);
async function* gen() { for (let i = 0; i < SIZE / MIB; i++) yield await Promise.resolve(Buffer.from(block)); }
const it = gen();
const body = new ReadableStream({ async pull(c) { const r = await it.next(); if (r.done) c.close(); else c.enqueue(r.value); } });
const r = await fetch(`http://127.0.0.1:${port}/`, { method: 'PUT', body, duplex: 'half' } as RequestInit);
await r.text();
(globalThis as { gc?: () => void }).gc!();
console.log('ab', process.memoryUsage().arrayBuffers / MIB);
console.log(writeHeapSnapshot('/tmp/memexp/snap.heapsnapshot'));
srv.close();
