/**
 * `sotto safety-number <contact>` and `sotto verify <contact>`: the 60-digit safety number (and
 * its QR code) of this account and a contact, and marking the contact verified once the numbers
 * were compared — interactively, with `--yes`, or by checking the contact's QR payload
 * (`safety-number --payload` on their side, `verify --payload` on ours), which also works for
 * two people comparing over another trusted channel.
 */
import { ClientError, type SafetyNumber, type SottoClient } from '@sotto/client';
import { CliError } from '../cli-error.js';
import { ContactBook, contactLabel, type ResolvedContact } from '../contacts.js';
import {
  connectOrFail,
  flushBriefly,
  withSession,
  type GlobalOptions,
  type RunContext,
  type Session,
} from '../session.js';
import { promptLine } from '../terminal/prompt.js';
import { formatSafetyNumber, terminalQr } from '../terminal/render.js';

async function safetyNumberOf(
  client: SottoClient,
  contact: ResolvedContact,
  argument: string,
): Promise<SafetyNumber> {
  try {
    return await client.safetyNumber(contact.accountId);
  } catch (err) {
    if (ClientError.is(err, 'UNKNOWN_CONTACT')) {
      throw new CliError(
        'UNKNOWN_CONTACT',
        `no safety number with ${argument} yet: exchange a message first (sotto send ${argument} hello)`,
        { cause: err },
      );
    }
    throw err;
  }
}

export interface SafetyNumberOptions {
  /** Draw the QR code (default true). */
  readonly qr: boolean;
  /** Print the QR payload as base64 instead (for `verify --payload`). */
  readonly payload?: boolean;
}

export async function safetyNumber(
  contactArgument: string,
  options: SafetyNumberOptions,
  globals: GlobalOptions,
  ctx: RunContext,
): Promise<void> {
  await withSession(globals, ctx, async ({ client, store }) => {
    const book = await ContactBook.load(client, store);
    const contact = await book.resolve(contactArgument);
    const number = await safetyNumberOf(client, contact, contactArgument);
    if (options.payload === true) {
      process.stdout.write(`${Buffer.from(number.qrPayload).toString('base64')}\n`);
      return;
    }
    const info = await client.contact(contact.accountId);
    const state =
      info.identityState === 'changed'
        ? 'CHANGED — not yet accepted'
        : info.verified
          ? 'verified ✓'
          : 'not verified';
    let out = `Safety number with ${contactLabel(contact)} (${state}):\n\n`;
    out += formatSafetyNumber(number.digits) + '\n';
    if (options.qr) out += '\n' + (await terminalQr(number.qrPayload));
    out +=
      `\nCompare these digits with the ones on ${contactLabel(contact)}'s screen (in person or on a call).\n` +
      `If they match: sotto verify ${contactArgument}\n`;
    process.stdout.write(out);
  });
}

export interface VerifyOptions {
  /** The numbers were compared and match: mark verified without asking. */
  readonly yes?: boolean;
  /** The contact's QR payload (base64, from their `sotto safety-number --payload`). */
  readonly payload?: string;
  /** Remove the verified mark. */
  readonly clear?: boolean;
}

/** Verifying accepts a changed key: messages held for it are sent now if the relay is there. */
async function sendReleased(session: Session): Promise<void> {
  if (session.client.pendingSends === 0) return;
  try {
    await connectOrFail(session);
    await flushBriefly(session.client);
  } catch (err) {
    if (!CliError.is(err, 'UNREACHABLE')) throw err;
    process.stderr.write(
      'Messages waiting for this contact go out on the next connection (the relay is not reachable now).\n',
    );
  }
}

export async function verify(
  contactArgument: string,
  options: VerifyOptions,
  globals: GlobalOptions,
  ctx: RunContext,
): Promise<void> {
  await withSession(globals, ctx, async (session) => {
    const { client, store } = session;
    const book = await ContactBook.load(client, store);
    const contact = await book.resolve(contactArgument);
    const label = contactLabel(contact);
    if (options.clear === true) {
      await client.clearVerified(contact.accountId);
      process.stdout.write(`${label} is no longer marked verified.\n`);
      return;
    }
    const number = await safetyNumberOf(client, contact, contactArgument);
    if (options.payload !== undefined) {
      const scanned = Buffer.from(options.payload.trim(), 'base64');
      if (scanned.length === 0) throw new CliError('USAGE', '--payload must be base64');
      if (!(await client.verifySafetyNumber(contact.accountId, new Uint8Array(scanned)))) {
        throw new CliError(
          'SAFETY_NUMBER_MISMATCH',
          `the safety number does NOT match ${label}'s: do not trust this conversation until you know why`,
        );
      }
      process.stdout.write(`Safety numbers match: ${label} is verified ✓\n`);
      await sendReleased(session);
      return;
    }
    if (options.yes !== true) {
      process.stdout.write(
        `Safety number with ${label}:\n\n${formatSafetyNumber(number.digits)}\n\n`,
      );
      const answer = await promptLine(
        `Does ${label}'s screen show the same 60 digits? [y/N] `,
        'answer',
      );
      if (!/^y(es)?$/i.test(answer)) {
        process.stdout.write('Not verified.\n');
        return;
      }
    }
    await client.markVerified(contact.accountId);
    process.stdout.write(`${label} is verified ✓\n`);
    await sendReleased(session);
  });
}
