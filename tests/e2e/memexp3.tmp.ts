import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
const MIB = 1024 * 1024, SIZE = 128 * MIB;
const srv = createServer((req, res) => { let n = 0; req.on('data', (c: Buffer) => { n += c.length; }); req.on('end', () => { res.end(String(n)); }); });
await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
const port = (srv.address() as { port: number }).port;
const block = randomBytes(MIB);
const gc = (globalThis as { gc?: () => void }).gc!;
const variant = process.argv[2];
async function* gen() { for (let i = 0; i < SIZE / MIB; i++) yield await Promise.resolve(Buffer.from(block)); }
let body: unknown;
if (variant === 'gen') body = gen();
else if (variant === 'node') body = Readable.from(gen());
else if (variant === 'bytes') { const it = gen(); body = new ReadableStream({ type: 'bytes', async pull(c) { const r = await it.next(); if (r.done) { c.close(); c.byobRequest?.respond(0); } else c.enqueue(r.value); } }); }
else { const it = gen(); body = new ReadableStream({ async pull(c) { const r = await it.next(); if (r.done) c.close(); else c.enqueue(r.value); } }); }
gc();
const base = process.memoryUsage();
let peakAb = 0;
const t = setInterval(() => { gc(); const m = process.memoryUsage(); peakAb = Math.max(peakAb, m.arrayBuffers - base.arrayBuffers); }, 50);
const r = await fetch(`http://127.0.0.1:${port}/`, { method: process.argv[3] ?? 'PUT', body, duplex: 'half' } as RequestInit);
console.log(variant, 'status', r.status, await r.text(), 'peak ab MiB', peakAb / MIB);
clearInterval(t); gc(); console.log('after', (process.memoryUsage().arrayBuffers - base.arrayBuffers) / MIB); srv.close();
