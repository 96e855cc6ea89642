/**
 * DEVELOPMENT ONLY: "sends" a verification code by writing one line to a stream (stdout by
 * default), so a developer running the server locally can register. Enabled only when the operator
 * explicitly configures `SOTTO_SMS=console` (apps/server), never by default. The line goes to the
 * stream directly, not through the logger: logs never contain codes or numbers. Format:
 *
 *   [sotto dev-only sms] to=+14155550100 code=123456
 *
 * (stable, so test harnesses can read codes from a server process's stdout).
 */
import type { SmsMessage, SmsSender } from '../ports/sms.js';

export const CONSOLE_SMS_PREFIX = '[sotto dev-only sms]';

export class ConsoleSmsSender implements SmsSender {
  constructor(private readonly out: { write(line: string): unknown } = process.stdout) {}

  send(message: SmsMessage): Promise<void> {
    this.out.write(`${CONSOLE_SMS_PREFIX} to=${message.to} code=${message.code}\n`);
    return Promise.resolve();
  }
}
