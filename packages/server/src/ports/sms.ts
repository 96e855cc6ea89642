/**
 * The SMS port: how a verification code reaches a phone. Operators plug in any gateway through the
 * webhook sender (sms/webhook-sender.ts); developers use the console sender
 * (sms/console-sender.ts). Implementations must never log the code or the number.
 */
export interface SmsMessage {
  /** E.164 number. */
  readonly to: string;
  /** The 6-digit code; a secret until it is used or expires. */
  readonly code: string;
  /** Minutes the code stays valid, for the text shown to the user. */
  readonly validMinutes: number;
}

export interface SmsSender {
  /** Resolves once the gateway accepted the message; rejects when it did not. */
  send(message: SmsMessage): Promise<void>;
}
