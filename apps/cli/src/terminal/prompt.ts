/**
 * Prompts on the terminal: a visible line (a verification code) and a hidden one (a passphrase or
 * PIN, never echoed). Prompts go to stderr so stdout stays clean for output and pipes. When stdin
 * is not a terminal (scripts, tests), a line is read from it as it comes, without echo handling.
 */
import { CliError } from '../cli-error.js';

export interface PromptIo {
  readonly input: NodeJS.ReadStream;
  readonly output: NodeJS.WriteStream;
}

const defaultIo = (): PromptIo => ({ input: process.stdin, output: process.stderr });

/** One line from a non-terminal stdin (buffered across calls: a pipe may carry several answers). */
const pipedLines: string[] = [];
let pipedPartial = '';
let pipedEnded = false;
const pipedWaiters: Array<() => void> = [];
let pipedAttached = false;

function attachPipe(input: NodeJS.ReadStream): void {
  if (pipedAttached) return;
  pipedAttached = true;
  input.setEncoding('utf8');
  input.on('data', (chunk: string) => {
    pipedPartial += chunk;
    const parts = pipedPartial.split(/\r?\n/);
    pipedPartial = parts.pop() ?? '';
    pipedLines.push(...parts);
    for (const wake of pipedWaiters.splice(0)) wake();
  });
  input.on('end', () => {
    pipedEnded = true;
    if (pipedPartial.length > 0) pipedLines.push(pipedPartial);
    pipedPartial = '';
    for (const wake of pipedWaiters.splice(0)) wake();
  });
}

async function readPipedLine(input: NodeJS.ReadStream, what: string): Promise<string> {
  attachPipe(input);
  input.resume();
  for (;;) {
    const line = pipedLines.shift();
    if (line !== undefined) {
      if (pipedLines.length === 0) input.pause();
      return line;
    }
    if (pipedEnded) throw new CliError('USAGE', `no ${what} given (standard input ended)`);
    await new Promise<void>((resolve) => pipedWaiters.push(resolve));
  }
}

/** A piped answer is not echoed: end the prompt's line so later output starts on its own. */
async function readPipedAnswer(io: PromptIo, what: string): Promise<string> {
  const line = await readPipedLine(io.input, what);
  io.output.write('\n');
  return line;
}

/** Asks for a line that may be shown (a verification code). */
export async function promptLine(
  question: string,
  what: string,
  io = defaultIo(),
): Promise<string> {
  io.output.write(question);
  if (!io.input.isTTY) return (await readPipedAnswer(io, what)).trim();
  return new Promise<string>((resolve, reject) => {
    let line = '';
    io.input.setEncoding('utf8');
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          cleanup();
          io.output.write('\n');
          resolve(line.trim());
          return;
        }
        if (ch === '\u0003') {
          cleanup();
          io.output.write('\n');
          reject(new CliError('INTERRUPTED', 'interrupted'));
          return;
        }
        line += ch;
      }
    };
    const cleanup = (): void => {
      io.input.off('data', onData);
      io.input.pause();
    };
    io.input.on('data', onData);
    io.input.resume();
  });
}

/** Asks for a secret without echoing it. Backspace works; Ctrl-C aborts; Ctrl-U clears. */
export async function promptHidden(
  question: string,
  what: string,
  io = defaultIo(),
): Promise<string> {
  io.output.write(question);
  if (!io.input.isTTY) return readPipedAnswer(io, what);
  const input = io.input;
  return new Promise<string>((resolve, reject) => {
    const chars: string[] = [];
    const wasRaw = input.isRaw;
    input.setRawMode(true);
    input.setEncoding('utf8');
    const finish = (): void => {
      input.off('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      io.output.write('\n');
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        switch (ch) {
          case '\r':
          case '\n':
          case '\u0004': // Ctrl-D
            finish();
            resolve(chars.join(''));
            chars.length = 0;
            return;
          case '\u0003': // Ctrl-C
            finish();
            chars.length = 0;
            reject(new CliError('INTERRUPTED', 'interrupted'));
            return;
          case '\u007f': // Backspace (DEL)
          case '\b':
            chars.pop();
            break;
          case '\u0015': // Ctrl-U
            chars.length = 0;
            break;
          default:
            if (ch >= ' ') chars.push(ch);
        }
      }
    };
    input.on('data', onData);
    input.resume();
  });
}
