/**
 * The terminal of `sotto chat`: a prompt line the user types into, with messages and notices
 * printed above it as they arrive (the half-typed line is redrawn, not lost). Lines typed before
 * the chat is ready (while it connects) are kept, not dropped. Without a terminal (input from a
 * pipe) it degrades to plain lines in and out.
 */
import { clearLine, createInterface, cursorTo, type Interface } from 'node:readline';

const PROMPT = '> ';

export class ChatScreen {
  readonly #rl: Interface;
  readonly #output: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #typed: string[] = [];
  #wake: (() => void) | undefined;
  #closed = false;

  constructor(input: NodeJS.ReadStream, output: NodeJS.WriteStream) {
    this.#output = output;
    this.#tty = input.isTTY === true && output.isTTY === true;
    this.#rl = createInterface({ input, output, prompt: PROMPT, terminal: this.#tty });
    // The echoed "> text" stays as the record of what the user sent (rewriting it in place with
    // cursor movements proved fragile when keys and output arrive together).
    this.#rl.on('line', (line) => {
      this.#typed.push(line);
      this.#wake?.();
    });
    // Ctrl-C leaves the chat like /quit (the client is then closed properly); Ctrl-D too.
    this.#rl.on('SIGINT', () => this.close());
    this.#rl.on('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
  }

  /** True on a terminal (typed lines are echoed by the prompt). */
  get interactive(): boolean {
    return this.#tty;
  }

  /** Prints `text` (one or more lines) above the prompt. */
  print(text: string): void {
    if (!this.#tty || this.#closed) {
      this.#output.write(text + '\n');
      return;
    }
    cursorTo(this.#output, 0);
    clearLine(this.#output, 0);
    this.#output.write(text + '\n');
    this.#rl.prompt(true);
  }

  /** The lines the user enters (including any typed early), until /quit, Ctrl-D or Ctrl-C. */
  async *lines(): AsyncGenerator<string> {
    for (;;) {
      const line = this.#typed.shift();
      if (line !== undefined) {
        yield line;
        continue;
      }
      if (this.#closed) return;
      this.#rl.prompt(true);
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#rl.close();
  }
}
