// fast-check arbitraries for every record of the schema (docs/backup-format.md §6).
import fc from 'fast-check';
import type {
  AccountRecord,
  AttachmentPointer,
  ContactRecord,
  ContentRecord,
  ConversationRecord,
  MessageRecord,
  Receipt,
  SettingRecord,
} from '../src/index.js';

const text = fc.string({ unit: 'binary', maxLength: 40 });
const longText = fc.oneof(text, fc.string({ unit: 'binary', minLength: 100, maxLength: 3000 }));
const bytes = (max = 64) => fc.uint8Array({ maxLength: max });
const nat = fc.maxSafeNat();
const u32 = fc.nat({ max: 0xffff_ffff });

export const account: fc.Arbitrary<AccountRecord> = fc.record({
  type: fc.constant('account' as const),
  accountId: text,
  phoneNumber: text,
  deviceId: u32,
  registrationId: u32,
  identityPublicKey: bytes(33),
  identityPrivateKey: bytes(32),
  profileKey: bytes(32),
  profileName: text,
  masterKey: bytes(32),
});

export const contact = (recipientId: fc.Arbitrary<number>): fc.Arbitrary<ContactRecord> =>
  fc.record({
    type: fc.constant('contact' as const),
    recipientId,
    serviceId: text,
    phoneNumber: text,
    name: text,
    profileName: text,
    profileKey: bytes(32),
    identityKey: bytes(33),
    verification: fc.constantFrom('default' as const, 'verified' as const, 'unverified' as const),
    blocked: fc.boolean(),
  });

export const conversation = (
  conversationId: fc.Arbitrary<number>,
  recipientId: fc.Arbitrary<number>,
): fc.Arbitrary<ConversationRecord> =>
  fc.oneof(
    fc.record({
      type: fc.constant('conversation' as const),
      conversationId,
      kind: fc.constant('direct' as const),
      recipientId,
      groupId: fc.constant(new Uint8Array(0)),
      title: text,
      archived: fc.boolean(),
      pinned: fc.boolean(),
      mutedUntilMs: nat,
      expireTimerSeconds: u32,
    }),
    fc.record({
      type: fc.constant('conversation' as const),
      conversationId,
      kind: fc.constant('group' as const),
      recipientId: fc.constant(0),
      groupId: fc.uint8Array({ minLength: 1, maxLength: 32 }),
      title: text,
      archived: fc.boolean(),
      pinned: fc.boolean(),
      mutedUntilMs: nat,
      expireTimerSeconds: u32,
    }),
  );

export const attachment: fc.Arbitrary<AttachmentPointer> = fc.record({
  cdnKey: text,
  cdnNumber: u32,
  key: bytes(64),
  digest: bytes(32),
  size: nat,
  contentType: text,
  fileName: text,
  width: u32,
  height: u32,
  uploadedAtMs: nat,
});

export const receipt = (recipientId: fc.Arbitrary<number>): fc.Arbitrary<Receipt> =>
  fc.record({
    recipientId,
    status: fc.constantFrom(
      'pending' as const,
      'sent' as const,
      'delivered' as const,
      'read' as const,
      'viewed' as const,
      'failed' as const,
    ),
    updatedAtMs: nat,
  });

export const message = (
  conversationId: fc.Arbitrary<number>,
  recipientId: fc.Arbitrary<number>,
): fc.Arbitrary<MessageRecord> =>
  fc.record({
    type: fc.constant('message' as const),
    messageId: nat,
    conversationId,
    authorRecipientId: fc.oneof(fc.constant(0), recipientId),
    sentAtMs: nat,
    receivedAtMs: nat,
    body: longText,
    attachments: fc.array(attachment, { maxLength: 3 }),
    receipts: fc.array(receipt(recipientId), { maxLength: 4 }),
    read: fc.boolean(),
    expiresInMs: nat,
    expireStartedAtMs: nat,
  });

export const setting: fc.Arbitrary<SettingRecord> = fc.record({
  type: fc.constant('setting' as const),
  key: fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
  value: fc.oneof(
    fc.boolean(),
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    text,
    bytes(40),
  ),
});

/** A referentially valid history: contacts 1..c, conversations 1..k, then messages. */
export const history: fc.Arbitrary<ContentRecord[]> = fc
  .record({
    contacts: fc.integer({ min: 1, max: 6 }),
    conversations: fc.integer({ min: 1, max: 6 }),
  })
  .chain(({ contacts, conversations }) => {
    const recipient = fc.integer({ min: 1, max: contacts });
    const conv = fc.integer({ min: 1, max: conversations });
    return fc
      .tuple(
        fc.option(account, { nil: undefined }),
        fc.tuple(...Array.from({ length: contacts }, (_, i) => contact(fc.constant(i + 1)))),
        fc.tuple(
          ...Array.from({ length: conversations }, (_, i) =>
            conversation(fc.constant(i + 1), recipient),
          ),
        ),
        fc.array(setting, { maxLength: 4 }),
        fc.array(message(conv, recipient), { maxLength: 40 }),
      )
      .map(([acct, cs, convs, settings, messages]) => [
        ...(acct === undefined ? [] : [acct]),
        ...cs,
        ...convs,
        ...settings,
        ...messages,
      ]);
  });
