/**
 * `sotto contacts` (who this profile knows, with the state of their safety numbers) and
 * `sotto alias set|remove` (local names for numbers, kept in the encrypted profile).
 */
import { CliError } from '../cli-error.js';
import { checkAlias, ContactBook, normaliseNumber } from '../contacts.js';
import { writeAlias } from '../profile.js';
import { withSession, type GlobalOptions, type RunContext } from '../session.js';
import { table } from '../terminal/render.js';

export async function contacts(globals: GlobalOptions, ctx: RunContext): Promise<void> {
  await withSession(globals, ctx, async ({ client, store }) => {
    const book = await ContactBook.load(client, store);
    const known = await client.contacts();
    const self = client.account?.accountId;
    const rows: string[][] = [];
    const listedNumbers = new Set<string>();
    for (const c of known) {
      if (c.accountId === self) continue;
      if (c.number !== null) listedNumbers.add(c.number);
      const safety =
        c.identityState === 'changed'
          ? 'CHANGED — compare and accept (sotto verify)'
          : c.identityState === 'unknown'
            ? 'no messages yet'
            : c.verified
              ? 'verified ✓'
              : 'not verified';
      rows.push([book.aliasOf(c.number) ?? '', c.number ?? '', safety]);
    }
    for (const [alias, number] of book.aliases) {
      if (!listedNumbers.has(number)) rows.push([alias, number, 'not contacted yet']);
    }
    if (rows.length === 0) {
      process.stdout.write(
        'No contacts yet: sotto send <number> <text>, or sotto alias set NAME NUMBER.\n',
      );
      return;
    }
    rows.sort((a, b) => (a[0]! || a[1]!).localeCompare(b[0]! || b[1]!));
    process.stdout.write(table(['ALIAS', 'NUMBER', 'SAFETY NUMBER'], rows));
  });
}

export async function alias(
  action: 'set' | 'remove',
  name: string,
  numberArgument: string | undefined,
  globals: GlobalOptions,
  ctx: RunContext,
): Promise<void> {
  checkAlias(name);
  let number: string | undefined;
  if (action === 'set') {
    number = numberArgument === undefined ? undefined : normaliseNumber(numberArgument);
    if (number === undefined) {
      throw new CliError(
        'USAGE',
        'alias set needs a phone number in E.164 form, e.g. +14155550100',
      );
    }
  }
  await withSession(globals, ctx, async ({ store }) => {
    await writeAlias(store, name, number);
    process.stdout.write(
      number === undefined ? `Alias ${name} removed.\n` : `${name} now means ${number}.\n`,
    );
  });
}
