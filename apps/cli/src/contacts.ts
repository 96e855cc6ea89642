/**
 * Naming contacts on the command line: a phone number in E.164 form (`+14155550100`, spaces and
 * dashes allowed), or a local alias (`sotto alias set bob +14155550101`). The SDK addresses
 * contacts by account id; a number is looked up on the relay the first time and remembered.
 */
import { ClientError, type ClientStore, type ContactInfo, type SottoClient } from '@sotto/client';
import { CliError } from './cli-error.js';
import { readAliases } from './profile.js';

const E164 = /^\+[1-9][0-9]{1,14}$/;
/** Aliases are short names a shell passes without quoting, and never look like a number. */
const ALIAS = /^[\p{L}\p{N}_.-]{1,40}$/u;

export interface ResolvedContact {
  readonly accountId: string;
  readonly number: string | null;
  readonly alias: string | null;
}

/** `+1 (415) 555-0100` → `+14155550100`; undefined if it is not a number. */
export function normaliseNumber(text: string): string | undefined {
  const compact = text.replace(/[\s().-]/g, '');
  return E164.test(compact) ? compact : undefined;
}

export function checkAlias(alias: string): void {
  if (!ALIAS.test(alias) || alias.startsWith('+') || /^[0-9]+$/.test(alias)) {
    throw new CliError(
      'USAGE',
      'an alias is 1–40 letters, digits, "_", "." or "-", and not a number',
    );
  }
}

/** How a contact is shown: `bob (+14155550101)`, `+14155550101`, or a short account id. */
export function contactLabel(contact: {
  readonly accountId: string;
  readonly number: string | null;
  readonly alias?: string | null;
}): string {
  if (contact.alias != null && contact.number !== null)
    return `${contact.alias} (${contact.number})`;
  if (contact.alias != null) return contact.alias;
  if (contact.number !== null) return contact.number;
  return `account ${contact.accountId.slice(0, 8)}`;
}

export class ContactBook {
  private constructor(
    private readonly client: SottoClient,
    /** alias → number */
    readonly aliases: ReadonlyMap<string, string>,
    private readonly known: readonly ContactInfo[],
  ) {}

  static async load(client: SottoClient, store: ClientStore): Promise<ContactBook> {
    return new ContactBook(client, await readAliases(store), await client.contacts());
  }

  aliasOf(number: string | null): string | null {
    if (number === null) return null;
    for (const [alias, n] of this.aliases) if (n === number) return alias;
    return null;
  }

  /** The label of an account id this profile knows (or a short id). */
  labelOf(accountId: string): string {
    const info = this.known.find((c) => c.accountId === accountId);
    const number = info?.number ?? null;
    return contactLabel({ accountId, number, alias: this.aliasOf(number) });
  }

  /** Resolves a contact argument; looks a new number up on the relay (network). */
  async resolve(argument: string): Promise<ResolvedContact> {
    const aliasNumber = this.aliases.get(argument);
    const number = aliasNumber ?? normaliseNumber(argument);
    if (number === undefined) {
      throw new CliError(
        'UNKNOWN_CONTACT',
        `unknown contact "${argument}": give a phone number in E.164 form (+14155550100) or an alias (sotto alias set NAME NUMBER)`,
      );
    }
    const alias = this.aliasOf(number);
    const known = this.known.find((c) => c.number === number);
    if (known !== undefined) return { accountId: known.accountId, number, alias };
    try {
      return { accountId: await this.client.lookup(number), number, alias };
    } catch (err) {
      if (ClientError.is(err, 'UNKNOWN_CONTACT')) {
        throw new CliError(
          'UNKNOWN_CONTACT',
          `no Sotto account has the number ${number} on this server`,
          {
            cause: err,
          },
        );
      }
      throw err;
    }
  }
}
