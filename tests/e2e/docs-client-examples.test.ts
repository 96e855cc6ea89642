/**
 * Every ```ts example of docs/client.md runs here against a real relay process, as written: the
 * blocks are read from the doc, their `import` lines are bound to the real modules, TypeScript is
 * stripped (typescript's transpileModule), and each block runs as the body of an async function
 * whose parameters supply what a snippet only names (`phone`, `laptop`, `ui`, `show…`). The only
 * edits are the relay URL (for https://chat.example.org) and the SMS code (read from the relay's
 * development SMS line). A new example fails the first test until it gets a runner below.
 */
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as sottoClient from '@sotto/client';
import type { SottoClient } from '@sotto/client';
import * as sottoClientTesting from '@sotto/client/testing';
import { newClient, registeredClient, startRelay, until, type Relay } from './client-support.js';

const DOC = readFileSync(new URL('../../docs/client.md', import.meta.url), 'utf8');
const BLOCKS = [...DOC.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

const MODULES: Record<string, Record<string, unknown>> = {
  ws: { default: WebSocket },
  '@sotto/client': sottoClient,
  '@sotto/client/testing': sottoClientTesting,
};

/** Which block is which: one marker each (a block no runner claims fails the first test). */
const RUNNERS = {
  intro: 'await createClient(',
  connect: 'client.connect({ maxAttempts',
  identity: "client.on('identity-changed'",
  link: 'laptop.beginLink(',
  storage: 'runClientStoreConformance(',
} as const;

function block(name: keyof typeof RUNNERS): string {
  const found = BLOCKS.filter((b) => b.includes(RUNNERS[name]));
  expect(found, `one docs/client.md example for "${name}"`).toHaveLength(1);
  return found[0]!;
}

type Example = (scope: Record<string, unknown>) => Promise<Record<string, unknown>>;
type AsyncFunctionConstructor = new (
  ...args: string[]
) => (...args: unknown[]) => Promise<Record<string, unknown>>;
const asyncArrow = async (): Promise<void> => {
  await Promise.resolve();
};
const AsyncFunction = (
  Object.getPrototypeOf(asyncArrow) as { constructor: AsyncFunctionConstructor }
).constructor;

/**
 * Compiles a doc block: imports become bindings, the rest the body of an async function that
 * returns the block's top-level constants.
 */
function compile(source: string, substitutions: ReadonlyArray<readonly [string, string]> = []) {
  let code = source;
  for (const [from, to] of substitutions) {
    expect(code, `the example contains ${from}`).toContain(from);
    code = code.split(from).join(to);
  }
  const imports: Record<string, unknown> = {};
  const body: string[] = [];
  for (const line of code.split('\n')) {
    const m = /^import\s+(?:(\w+)|\{([^}]*)\})\s+from\s+'([^']+)';/.exec(line);
    if (m === null) {
      body.push(line);
      continue;
    }
    const mod = MODULES[m[3]!];
    if (mod === undefined) throw new Error(`docs/client.md imports ${m[3]}: add it to MODULES`);
    if (m[1] !== undefined) imports[m[1]] = mod.default;
    for (const name of (m[2] ?? '').split(',').map((n) => n.trim())) {
      if (name.length === 0) continue;
      if (!(name in mod)) throw new Error(`${m[3]} does not export ${name}`);
      imports[name] = mod[name];
    }
  }
  const names = new Set<string>();
  for (const line of body) {
    const plain = /^const (\w+)/.exec(line);
    if (plain !== null) names.add(plain[1]!);
    const destructured = /^const \{([^}]*)\}/.exec(line);
    if (destructured !== null) {
      for (const n of destructured[1]!.split(',')) names.add(n.split(':').at(-1)!.trim());
    }
  }
  const js = ts
    .transpileModule(body.join('\n'), {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    })
    .outputText.replace(/^export \{\};$/m, '');
  return (scope: Record<string, unknown>): ReturnType<Example> => {
    const all = { ...imports, ...scope };
    const fn = new AsyncFunction(
      ...Object.keys(all),
      `${js}\nreturn { ${[...names].join(', ')} };`,
    );
    return fn(...Object.values(all));
  };
}

/** A console that records what examples print. */
function recordingConsole() {
  const lines: unknown[][] = [];
  return { lines, console: { log: (...args: unknown[]) => lines.push(args) } };
}

// The storage example registers test suites: it runs while this file is collected.
// (The block has no `await`: its suites are registered before the call returns.)
void compile(block('storage'))({});

describe('docs/client.md examples against a real relay', () => {
  let relay: Relay;
  const clients: SottoClient[] = [];
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await relay.stop();
  });

  it('every ts example of the doc has a runner here', () => {
    const claimed = Object.keys(RUNNERS).map((n) => block(n as keyof typeof RUNNERS));
    expect(new Set(claimed).size).toBe(BLOCKS.length);
  });

  it('the introduction: register, connect, look up, send, follow the status', async () => {
    // The contact the example looks up.
    const bob = await registeredClient(relay, { number: '+14155550111' });
    clients.push(bob.client);
    const printed = recordingConsole();
    const run = compile(block('intro'), [
      ["'https://chat.example.org'", JSON.stringify(relay.url)],
      ["code: '123456'", "code: await codeFor('+14155550100')"],
    ]);
    const out = await run({
      console: printed.console,
      codeFor: (number: string) => relay.process.codeFor(number),
    });
    const client = out.client as SottoClient;
    clients.push(client);
    expect(out.bob).toBe(bob.accountId);
    expect(client.account?.number).toBe('+14155550100');
    const incoming = await bob.client.waitFor('message', (e) => e.message.body === 'hello');
    expect(incoming.message.author).toBe(client.account?.accountId);
    // The status listener printed the message going out and being delivered.
    await until(
      () => printed.lines.some((l) => l[1] === 'delivered'),
      20_000,
      'the delivered status line',
    );
  });

  it('connect with bounds: succeeds on a live relay, reports a dead one', async () => {
    const run = compile(block('connect'));
    const calls: string[] = [];
    const hooks = {
      showSignedOut: () => calls.push('signed-out'),
      showUpdateNeeded: () => calls.push('update'),
      showOffline: () => calls.push('offline'),
    };
    const live = await registeredClient(relay);
    clients.push(live.client);
    await run({ client: live.client, ...hooks });
    expect(calls).toEqual([]);
    expect(live.client.connectionState).toBe('open');

    const store = sottoClientTesting.createMemoryClientStore();
    const away = await registeredClient(relay, { store });
    await away.client.close();
    const elsewhere = { store, serverUrl: 'http://127.0.0.1:9' };
    const dead = await newClient(relay, elsewhere);
    clients.push(dead);
    await run({ client: dead, ...hooks });
    expect(calls).toEqual(['offline']);
  });

  it('identity change: the listener shows the safety number and accepts the new key', async () => {
    const alice = await registeredClient(relay);
    const carol = await registeredClient(relay);
    clients.push(alice.client, carol.client);
    const asked: unknown[][] = [];
    const ui = {
      confirmNewKey: (...args: unknown[]) => {
        asked.push(args);
        return Promise.resolve(true);
      },
    };
    await compile(block('identity'))({ client: alice.client, ui });
    await carol.client.send(alice.accountId, 'before');
    await alice.client.waitFor('message', (e) => e.message.body === 'before');
    // Carol re-registers (a new phone: a new identity key) and writes again.
    await carol.client.close();
    const carol2 = await registeredClient(relay, { number: carol.number });
    clients.push(carol2.client);
    await carol2.client.send(alice.accountId, 'after');
    await alice.client.waitFor('message', (e) => e.message.body === 'after');
    await until(async () => {
      const c = await alice.client.contact(carol.accountId);
      return asked.length === 1 && c.identityState === 'trusted';
    });
    expect(asked[0]![0]).toBe(carol.accountId);
    expect(asked[0]![1]).toMatch(/^\d{60}$/);
    expect(asked[0]![2]).toBe(false);
  });

  it('linking: the new device shows a URI, the primary approves it, the new device joins', async () => {
    const phone = await registeredClient(relay);
    const laptop = await newClient(relay);
    clients.push(phone.client, laptop);
    const shown: string[] = [];
    const out = await compile(block('link'))({
      phone: phone.client,
      laptop,
      show: (uri: string) => shown.push(uri),
    });
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatch(/^sotto:\/\/link\?/);
    expect(out.deviceId).toBe(2);
    expect(out.account).toMatchObject({
      accountId: phone.accountId,
      deviceId: 2,
      number: phone.number,
    });
    expect(laptop.connectionState).toBe('open');
  });
});
