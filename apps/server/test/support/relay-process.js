/**
 * Runs the relay as a real child process, as an operator would (`node apps/server/src/main.ts` via
 * tsx, configured by SOTTO_* variables), for process-level tests: crash tests, benchmarks, the
 * "server learns nothing" test. It waits for the readiness log line, collects the development SMS
 * lines (SOTTO_SMS=console) so tests can read verification codes, and exposes the exit status.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const SMS_LINE = /^\[sotto dev-only sms\] to=(\+[0-9]+) code=([0-9]{6})$/;
export async function spawnRelay(env, timeoutMs = 20_000) {
    const child = spawn(process.execPath, ['--conditions=sotto-source', '--import', 'tsx', MAIN], {
        env: { ...process.env, SOTTO_HOST: '127.0.0.1', SOTTO_PORT: '0', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = [];
    let stderr = '';
    let partial = '';
    const listeners = new Set();
    child.stdout.on('data', (chunk) => {
        partial += chunk.toString();
        const parts = partial.split('\n');
        partial = parts.pop();
        lines.push(...parts);
        for (const l of listeners)
            l();
    });
    child.stderr.on('data', (chunk) => (stderr += chunk.toString()));
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
    const waitFor = (find, ms, what) => new Promise((resolve, reject) => {
        const check = () => {
            const found = find();
            if (found !== undefined) {
                cleanup();
                resolve(found);
            }
        };
        const timer = setTimeout(() => {
            cleanup();
            reject(new Error(`timed out waiting for ${what}; stderr: ${stderr}`));
        }, ms);
        const onExit = () => {
            cleanup();
            reject(new Error(`relay exited while waiting for ${what}; stderr: ${stderr}`));
        };
        const cleanup = () => {
            clearTimeout(timer);
            listeners.delete(check);
            child.off('exit', onExit);
        };
        listeners.add(check);
        child.on('exit', onExit);
        check();
    });
    const ready = await waitFor(() => {
        for (const l of lines) {
            if (!l.startsWith('{'))
                continue;
            const j = JSON.parse(l);
            if (j.msg === 'sotto relay ready')
                return { url: j.url, port: j.port };
        }
        return undefined;
    }, timeoutMs, 'the readiness line');
    return {
        child,
        url: ready.url,
        port: ready.port,
        lines,
        stderr: () => stderr,
        exited,
        codeFor: (number, ms = 5000) => waitFor(() => {
            for (let i = lines.length - 1; i >= 0; i--) {
                const m = SMS_LINE.exec(lines[i]);
                if (m !== null && m[1] === number)
                    return m[2];
            }
            return undefined;
        }, ms, `a code for ${number}`),
    };
}
//# sourceMappingURL=relay-process.js.map