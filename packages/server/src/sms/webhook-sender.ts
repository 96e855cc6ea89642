/**
 * The operator's SMS gateway hook: POSTs `{"to","code","validMinutes","text"}` as JSON to a URL
 * the operator configures (HTTPS unless it is on loopback), with an optional bearer token. Any 2xx
 * answer is success; anything else, a timeout or a network error rejects. Errors name the HTTP
 * status only — never the number, the code or the gateway's answer body.
 */
import { ApiError } from '@sotto/api';
import type { SmsMessage, SmsSender } from '../ports/sms.js';

export interface WebhookSmsOptions {
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  readonly timeoutMs?: number;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export class WebhookSmsSender implements SmsSender {
  private readonly url: URL;

  constructor(private readonly options: WebhookSmsOptions) {
    this.url = new URL(options.url);
    const loopback = LOOPBACK_HOSTS.has(this.url.hostname) || this.url.hostname.startsWith('127.');
    if (this.url.protocol !== 'https:' && !(this.url.protocol === 'http:' && loopback)) {
      throw new Error('the SMS webhook must use https (plain http only on loopback)');
    }
  }

  async send(message: SmsMessage): Promise<void> {
    const body = JSON.stringify({
      to: message.to,
      code: message.code,
      validMinutes: message.validMinutes,
      text: `Your Sotto code is ${message.code}. It expires in ${message.validMinutes} minutes.`,
    });
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.options.token === undefined
            ? {}
            : { authorization: `Bearer ${this.options.token}` }),
        },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch {
      throw new ApiError('SMS_DELIVERY_FAILED', 'the SMS gateway could not be reached');
    }
    // Drain the body so the connection can be reused; its content is not inspected or logged.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status < 200 || response.status > 299) {
      throw new ApiError('SMS_DELIVERY_FAILED', `the SMS gateway answered ${response.status}`);
    }
  }
}
