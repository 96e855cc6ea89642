/** An SMS sender for in-process tests: keeps the last code per number instead of sending it. */
import type { SmsMessage, SmsSender } from '../ports/sms.js';

export class MemorySmsSender implements SmsSender {
  readonly sent: SmsMessage[] = [];
  /** When set, `send` rejects (to test gateway failures). */
  failing = false;

  send(message: SmsMessage): Promise<void> {
    if (this.failing) return Promise.reject(new Error('gateway down'));
    this.sent.push(message);
    return Promise.resolve();
  }

  /** The last code sent to `number`. */
  codeFor(number: string): string {
    for (let i = this.sent.length - 1; i >= 0; i--) {
      if (this.sent[i]!.to === number) return this.sent[i]!.code;
    }
    throw new Error('no code was sent to this number');
  }
}
