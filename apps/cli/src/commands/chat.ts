/**
 * `sotto chat <contact>`: an interactive conversation in the terminal. Shows the recent history,
 * then every incoming message, delivery and read receipt, identity-change warning and connection
 * change as it arrives, while the user types. Lines starting with `/` are commands (`/help`).
 * Incoming messages shown here are marked read (the contact gets a read receipt).
 */
import type { ClientEvent, SottoClient, StoredMessage } from '@sotto/client';
import { ContactBook, contactLabel, type ResolvedContact } from '../contacts.js';
import { startScheduledBackups } from './backup.js';
import {
  connectOrFail,
  flushBriefly,
  mailboxDrained,
  withSession,
  type GlobalOptions,
  type RunContext,
} from '../session.js';
import { ChatScreen } from '../terminal/chat-screen.js';
import {
  formatSafetyNumber,
  formatTime,
  receiptLine,
  sanitize,
  statusMark,
} from '../terminal/render.js';
import { CHAT_HISTORY_MESSAGES, MAILBOX_WAIT_MS, RECEIPT_QUOTE_LENGTH } from '../limits.js';

const HELP = [
  'Type a message and press Enter to send it. Commands:',
  '  /safety   show the safety number with this contact',
  '  /verify   mark the contact verified (after comparing safety numbers)',
  '  /accept   accept a changed safety number and send held messages',
  '  /quit     leave (Ctrl-D works too)',
].join('\n');

function quote(text: string): string {
  const flat = sanitize(text).replace(/\s+/g, ' ');
  return flat.length > RECEIPT_QUOTE_LENGTH
    ? `"${flat.slice(0, RECEIPT_QUOTE_LENGTH - 1)}…"`
    : `"${flat}"`;
}

export async function chat(
  contactArgument: string,
  globals: GlobalOptions,
  ctx: RunContext,
): Promise<void> {
  await withSession(globals, ctx, async (session) => {
    const { client } = session;
    const book = await ContactBook.load(client, session.store);
    const contact = await book.resolve(contactArgument);
    const name = contact.alias ?? contact.number ?? 'them';
    const screen = new ChatScreen(process.stdin, process.stdout);
    // A closed terminal or a `kill` ends the chat like /quit: the client and the store close.
    const leave = (): void => screen.close();
    process.once('SIGTERM', leave);
    process.once('SIGHUP', leave);
    const sentTexts = new Map<string, string>();

    const line = (m: StoredMessage): string => {
      const who = m.direction === 'outgoing' ? 'you' : name;
      const mark = m.direction === 'outgoing' ? statusMark(m.status) : '';
      return `[${formatTime(m.sentAt)}] ${who}: ${sanitize(m.body)}${mark === '' ? '' : `  ${mark}`}`;
    };

    screen.print(`Chat with ${contactLabel(contact)}. /help for commands, /quit to leave.`);
    const history = await client.messages(contact.accountId, { limit: CHAT_HISTORY_MESSAGES });
    for (const m of history) {
      if (m.direction === 'outgoing') sentTexts.set(m.id, m.body);
      screen.print(line(m));
    }
    const info = await client.contact(contact.accountId);
    if (info.identityState === 'changed') warnIdentityChanged(screen, contact, name);

    const onEvent = (event: ClientEvent): void => {
      switch (event.type) {
        case 'message': {
          const m = event.message;
          if (m.conversation !== contact.accountId) {
            if (m.direction === 'incoming') {
              screen.print(`-- new message from ${book.labelOf(m.conversation)}`);
            }
            return;
          }
          if (m.direction === 'outgoing') sentTexts.set(m.id, m.body); // sent from another device
          screen.print(line(m));
          if (m.direction === 'incoming') {
            client.markRead(contact.accountId, [m.id]).catch(() => {
              screen.print('-- could not send the read receipt');
            });
          }
          return;
        }
        case 'message-status': {
          if (event.conversation !== contact.accountId || event.status === 'pending') return;
          const text = sentTexts.get(event.id);
          screen.print(
            `   ${receiptLine(event.status)}${text === undefined ? '' : ` · ${quote(text)}`}`,
          );
          return;
        }
        case 'identity-changed':
          if (event.contact === contact.accountId) warnIdentityChanged(screen, contact, name);
          else screen.print(`-- the safety number with ${book.labelOf(event.contact)} changed`);
          return;
        case 'connection':
          switch (event.state) {
            case 'open':
              screen.print('-- connected');
              return;
            case 'reconnecting':
              screen.print('-- connection lost, reconnecting…');
              return;
            case 'deregistered':
              screen.print('-- the relay no longer accepts this device');
              screen.close();
              return;
            case 'unsupported':
              screen.print('-- the relay speaks another version of the protocol; update sotto');
              screen.close();
              return;
            case 'connecting':
            case 'offline':
              return;
          }
          return;
        case 'problem':
          if (event.kind === 'decrypt-failed' || event.kind === 'invalid-content') {
            const from =
              event.sender === undefined ? 'someone' : book.labelOf(event.sender.accountId);
            screen.print(`-- a message from ${from} could not be read (${event.code})`);
          }
          return;
        case 'receipt':
        case 'queue-empty':
        case 'device-linked':
          return;
      }
    };
    const off = client.onAny(onEvent);
    // What waited in the mailbox is shown before the chat reads input (bounded: a slow relay
    // must not block typing for long).
    const drained = mailboxDrained(client, MAILBOX_WAIT_MS);
    try {
      await connectOrFail(session);
      await startScheduledBackups(client, session.store, (text) => screen.print(text));
      await drained;
      const unread = history
        .filter((m) => m.direction === 'incoming' && m.status !== 'read')
        .map((m) => m.id);
      if (unread.length > 0) await client.markRead(contact.accountId, unread);

      for await (const input of screen.lines()) {
        const text = input.trim();
        if (text.length === 0) continue;
        if (text.startsWith('/')) {
          if (await command(text, client, contact, screen, name)) break;
          continue;
        }
        try {
          const message = await client.send(contact.accountId, text);
          sentTexts.set(message.id, message.body);
          // On a terminal the typed "> text" line already shows it; from a pipe, print it.
          if (!screen.interactive) screen.print(line(message));
          if (message.status === 'held') {
            screen.print(`-- held: accept the new safety number first (/safety, then /accept)`);
          }
        } catch (err) {
          screen.print(`-- not sent: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      if (client.pendingSends > 0) screen.print('-- sending what is still queued…');
      await flushBriefly(client);
      // Closing lets envelopes already being processed finish: keep showing them meanwhile.
      await client.close();
    } finally {
      off();
      screen.close();
      process.off('SIGTERM', leave);
      process.off('SIGHUP', leave);
    }
  });
}

function warnIdentityChanged(screen: ChatScreen, contact: ResolvedContact, name: string): void {
  screen.print(
    [
      `!! WARNING: the safety number with ${contactLabel(contact)} has changed.`,
      `!! ${name} may have reinstalled Sotto or changed phones — or someone may be intercepting.`,
      '!! Messages to them are held. Compare safety numbers (/safety), then /verify (or /accept).',
    ].join('\n'),
  );
}

/** Runs a `/command`; true means leave the chat. */
async function command(
  text: string,
  client: SottoClient,
  contact: ResolvedContact,
  screen: ChatScreen,
  name: string,
): Promise<boolean> {
  const [verb] = text.slice(1).split(/\s+/);
  try {
    switch (verb ?? '') {
      case 'quit':
      case 'exit':
      case 'q':
        return true;
      case 'help':
        screen.print(HELP);
        return false;
      case 'safety': {
        const number = await client.safetyNumber(contact.accountId);
        screen.print(`Safety number with ${name}:\n${formatSafetyNumber(number.digits)}`);
        return false;
      }
      case 'verify':
        await client.markVerified(contact.accountId);
        screen.print(`-- ${name} is verified ✓`);
        return false;
      case 'accept':
        screen.print(
          (await client.acceptIdentityChange(contact.accountId))
            ? '-- new safety number accepted; held messages are being sent'
            : '-- nothing to accept',
        );
        return false;
      default:
        screen.print(`-- unknown command ${verb ?? ''}; /help lists them`);
        return false;
    }
  } catch (err) {
    screen.print(`-- ${err instanceof Error ? err.message : String(err)}`);
    return false;
  }
}
