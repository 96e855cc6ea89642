/**
 * `sotto send <contact> <text…>`: connects, stores the message in the outbox, and waits until the
 * relay accepted it. A message held because the contact's safety number changed is reported (it
 * goes out once the change is accepted with `sotto verify` or in `sotto chat`).
 */
import type { OutgoingStatus } from '@sotto/client';
import { CliError } from '../cli-error.js';
import { ContactBook, contactLabel } from '../contacts.js';
import {
  connectOrFail,
  flushBriefly,
  withSession,
  type GlobalOptions,
  type RunContext,
} from '../session.js';
import { ACCEPT_TIMEOUT_MS } from '../limits.js';

export async function send(
  contactArgument: string,
  words: readonly string[],
  globals: GlobalOptions,
  ctx: RunContext,
): Promise<void> {
  const text = words.join(' ');
  if (text.trim().length === 0) throw new CliError('USAGE', 'nothing to send');
  await withSession(globals, ctx, async (session) => {
    const { client } = session;
    const book = await ContactBook.load(client, session.store);
    const contact = await book.resolve(contactArgument);
    const label = contactLabel(contact);
    const held = (): CliError =>
      new CliError(
        'NOT_SENT',
        `the safety number with ${label} changed: the message is held until you accept the change (sotto verify ${contactArgument})`,
      );

    // Statuses are recorded from before the send: the first one may arrive before send() returns.
    const statuses = new Map<string, OutgoingStatus>();
    let waitingFor: string | undefined;
    let settle: ((status: OutgoingStatus) => void) | undefined;
    let incoming = 0;
    const offStatus = client.on('message-status', (e) => {
      statuses.set(e.id, e.status);
      if (e.id === waitingFor && e.status !== 'pending') settle?.(e.status);
    });
    const offMessage = client.on('message', (e) => {
      if (e.message.direction === 'incoming') incoming++;
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await connectOrFail(session);
      const message = await client.send(contact.accountId, text);
      if (message.status === 'held') throw held();
      const status = await new Promise<OutgoingStatus | 'timeout'>((resolve) => {
        const known = statuses.get(message.id);
        if (known !== undefined && known !== 'pending') return resolve(known);
        waitingFor = message.id;
        settle = resolve;
        timer = setTimeout(() => resolve('timeout'), ACCEPT_TIMEOUT_MS);
      });
      switch (status) {
        case 'held':
          throw held();
        case 'failed':
          throw new CliError('NOT_SENT', `the relay refused the message to ${label}`);
        case 'timeout':
          throw new CliError(
            'TIMEOUT',
            `the relay did not accept the message within ${ACCEPT_TIMEOUT_MS / 1000} s; it stays queued and goes out on the next connection`,
          );
        case 'pending':
        case 'sent':
        case 'delivered':
        case 'read':
          break;
      }
      process.stdout.write(`Sent to ${label} ✓\n`);
      // Copies for this account's other devices and receipts for what arrived go out too.
      await flushBriefly(client);
      if (incoming > 0) {
        process.stderr.write(
          `${incoming} new message${incoming === 1 ? '' : 's'} arrived (sotto chat <contact> shows them).\n`,
        );
      }
    } finally {
      clearTimeout(timer);
      offStatus();
      offMessage();
    }
  });
}
