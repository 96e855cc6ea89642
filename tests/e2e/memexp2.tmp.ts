import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
const MIB = 1024 * 1024, SIZE = 256 * MIB;
const srv = createServer((req, res) => { let n = 0; req.on('data', (c: Buffer) => { n += c.length; }); req.on('end', () => { res.end(String(n)); }); });
await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
const port = (srv.address() as { port: number }).port;
const block = randomBytes(MIB);
const gc = (globalThis as { gc?: () => void }).gc;
const variant = process.argv[2];
let i = 0;
const body = new ReadableStream<Uint8Array>({
  pull(c) { if (i++ >= SIZE / MIB) { c.close(); return; } const p = Buffer.from(block); c.enqueue(variant === 'u8' ? new Uint8Array(p) : p); },
}, variant === 'hwm0' ? { highWaterMark: 0 } : undefined);
gc?.();
const base = process.memoryUsage();
let peakAb = 0;
const t = setInterval(() => { gc?.(); const m = process.memoryUsage(); peakAb = Math.max(peakAb, m.arrayBuffers - base.arrayBuffers); }, 20);
const r = await fetch(`http://127.0.0.1:${port}/`, { method: 'PUT', body, duplex: 'half' } as RequestInit);
console.log(variant, 'status', r.status, await r.text(), 'peak ab MiB', peakAb / MIB);
clearInterval(t); srv.close();
