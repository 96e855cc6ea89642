/**
 * The SPQR "braid": the chunked ML-KEM-768 state machine that yields one fresh epoch secret per
 * epoch (shared/specs/signal-wire.md §3.4 "Braid state machine"; spqr `v1/chunked/states.rs`,
 * `send_ek.rs`, `send_ct.rs` and `v1/unchunked/*`).
 *
 * Both sides start at epoch 1: the initiator in the send_ek role (KeysUnsampled), the responder
 * in the send_ct role (NoHeaderReceived). Each epoch the send_ek side sends `hdr ‖ macHdr`, then
 * `ek`; the send_ct side answers with `ct1` (split encapsulation: before it knows `ek`), then
 * `ct2 ‖ macCt`. Every message carries exactly one payload chunk (or none); payloads are sent
 * with the erasure code, so any sufficient subset of chunks arrives. The send_ct side derives the
 * epoch secret when it sends its first ct1 chunk; the send_ek side when ct2 decodes and its MAC
 * verifies. Then the roles swap: send_ek moves to NoHeaderReceived(e+1), send_ct to
 * KeysUnsampled(e+1) once it sees a message of epoch e+1.
 *
 * Epoch rules: a message of a lower epoch is ignored; a higher one is an error
 * (EpochOutOfRange), except e+1 in Ct2Sampled. States are immutable records; `braidSend` and
 * `braidRecv` return new ones.
 */
import {
  CryptoError,
  ML_KEM_768_CT1_LENGTH,
  ML_KEM_768_CT2_LENGTH,
  ML_KEM_768_ENCAPSULATION_KEY_LENGTH,
  ML_KEM_768_HEADER_LENGTH,
  hkdfSha256,
  mlKem768Decapsulate,
  mlKem768Encapsulate1,
  mlKem768Encapsulate2,
  mlKem768GenerateKeyPair,
} from '@sotto/crypto';
import { ProtocolError } from '../errors.js';
import type { Rng } from '../rng.js';
import {
  AUTHENTICATOR_MAC_LENGTH,
  be64,
  createAuthenticator,
  macCiphertext,
  macHeader,
  updateAuthenticator,
  verifyCiphertextMac,
  verifyHeaderMac,
  type Authenticator,
} from './authenticator.js';
import {
  addChunk,
  createDecoder,
  createEncoder,
  decodedMessage,
  nextChunk,
  type Chunk,
  type ErasureDecoder,
  type ErasureEncoder,
} from './erasure-code.js';
import type { SpqrPayload } from './message.js';

/** Payload sizes (spqr `incremental_mlkem768.rs` + 32-byte MACs). */
export const HEADER_PAYLOAD_LENGTH = ML_KEM_768_HEADER_LENGTH + AUTHENTICATOR_MAC_LENGTH; // 96
export const EK_PAYLOAD_LENGTH = ML_KEM_768_ENCAPSULATION_KEY_LENGTH; // 1152
export const CT1_PAYLOAD_LENGTH = ML_KEM_768_CT1_LENGTH; // 960
export const CT2_PAYLOAD_LENGTH = ML_KEM_768_CT2_LENGTH + AUTHENTICATOR_MAC_LENGTH; // 160

const SCKA_KEY_LABEL = new TextEncoder().encode('Signal_PQCKA_V1_MLKEM768:SCKA Key');
const ZERO_SALT = new Uint8Array(32);
const KEYGEN_SEED_LENGTH = 64;
const ENCAPS_RANDOMNESS_LENGTH = 32;

interface Base {
  readonly epoch: number;
  readonly auth: Authenticator;
}

// send_ek role
export interface KeysUnsampled extends Base {
  readonly kind: 'KeysUnsampled';
}
export interface KeysSampled extends Base {
  readonly kind: 'KeysSampled';
  readonly ek: Uint8Array;
  readonly dk: Uint8Array;
  readonly sendingHdr: ErasureEncoder;
}
export interface HeaderSent extends Base {
  readonly kind: 'HeaderSent';
  readonly dk: Uint8Array;
  readonly sendingEk: ErasureEncoder;
  readonly receivingCt1: ErasureDecoder;
}
export interface Ct1Received extends Base {
  readonly kind: 'Ct1Received';
  readonly dk: Uint8Array;
  readonly ct1: Uint8Array;
  readonly sendingEk: ErasureEncoder;
}
export interface EkSentCt1Received extends Base {
  readonly kind: 'EkSentCt1Received';
  readonly dk: Uint8Array;
  readonly ct1: Uint8Array;
  readonly receivingCt2: ErasureDecoder;
}
// send_ct role
export interface NoHeaderReceived extends Base {
  readonly kind: 'NoHeaderReceived';
  readonly receivingHdr: ErasureDecoder;
}
export interface HeaderReceived extends Base {
  readonly kind: 'HeaderReceived';
  readonly hdr: Uint8Array;
}
export interface Ct1Sampled extends Base {
  readonly kind: 'Ct1Sampled';
  readonly hdr: Uint8Array;
  /** The encapsulation randomness m (what encapsulate2 needs besides hdr). Secret. */
  readonly encapsRandomness: Uint8Array;
  readonly ct1: Uint8Array;
  readonly sendingCt1: ErasureEncoder;
  readonly receivingEk: ErasureDecoder;
}
export interface EkReceivedCt1Sampled extends Base {
  readonly kind: 'EkReceivedCt1Sampled';
  /** `ct2 ‖ macCt`, computed when ek arrived (it depends only on ek, hdr, m and the auth). */
  readonly ct2WithMac: Uint8Array;
  readonly sendingCt1: ErasureEncoder;
}
export interface Ct1Acknowledged extends Base {
  readonly kind: 'Ct1Acknowledged';
  readonly hdr: Uint8Array;
  readonly encapsRandomness: Uint8Array;
  readonly ct1: Uint8Array;
  readonly receivingEk: ErasureDecoder;
}
export interface Ct2Sampled extends Base {
  readonly kind: 'Ct2Sampled';
  readonly sendingCt2: ErasureEncoder;
}

export type BraidState =
  | KeysUnsampled
  | KeysSampled
  | HeaderSent
  | Ct1Received
  | EkSentCt1Received
  | NoHeaderReceived
  | HeaderReceived
  | Ct1Sampled
  | EkReceivedCt1Sampled
  | Ct1Acknowledged
  | Ct2Sampled;

export type BraidStateKind = BraidState['kind'];

export interface EpochSecret {
  readonly epoch: number;
  readonly secret: Uint8Array;
}

/** The initiator's start: send_ek role, epoch 1. */
export function initialSendEkState(authKey: Uint8Array): BraidState {
  return { kind: 'KeysUnsampled', epoch: 1, auth: createAuthenticator(authKey, 1) };
}

/** The responder's start: send_ct role, epoch 1. */
export function initialSendCtState(authKey: Uint8Array): BraidState {
  return {
    kind: 'NoHeaderReceived',
    epoch: 1,
    auth: createAuthenticator(authKey, 1),
    receivingHdr: createDecoder(HEADER_PAYLOAD_LENGTH),
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** HKDF(salt 0³², ss, "Signal_PQCKA_V1_MLKEM768:SCKA Key" ‖ be64(epoch), 32). */
function epochSecretFrom(sharedSecret: Uint8Array, epoch: number): Uint8Array {
  return hkdfSha256(sharedSecret, ZERO_SALT, concat(SCKA_KEY_LABEL, be64(epoch)), 32);
}

function randomBytes(rng: Rng, length: number): Uint8Array {
  const bytes = rng(length);
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new ProtocolError('INVALID_STATE', `rng returned the wrong number of bytes`);
  }
  return bytes;
}

/** ct2 and its MAC for a validated ek; a mismatching ek is the peer's error. */
function sendCt2(
  auth: Authenticator,
  epoch: number,
  hdr: Uint8Array,
  encapsRandomness: Uint8Array,
  ct1: Uint8Array,
  ek: Uint8Array,
): Uint8Array {
  let ct2: Uint8Array;
  try {
    ct2 = mlKem768Encapsulate2({ header: hdr, randomness: encapsRandomness }, ek);
  } catch (err) {
    if (CryptoError.is(err)) {
      throw new ProtocolError(
        'PQ_RATCHET',
        'erroneous data received: encapsulation key does not match header',
        {
          cause: err,
        },
      );
    }
    throw err;
  }
  const mac = macCiphertext(auth, epoch, concat(ct1, ct2));
  return concat(ct2, mac);
}

export interface BraidSendResult {
  readonly state: BraidState;
  readonly epoch: number;
  readonly payload: SpqrPayload;
  readonly epochSecret: EpochSecret | null;
}

function chunkPayload(type: 'hdr' | 'ek' | 'ekCt1Ack' | 'ct1' | 'ct2', chunk: Chunk): SpqrPayload {
  return { type, chunk };
}

/** One outgoing payload (spqr `States::send`). */
export function braidSend(state: BraidState, rng: Rng): BraidSendResult {
  const { epoch } = state;
  switch (state.kind) {
    case 'KeysUnsampled': {
      const keys = mlKem768GenerateKeyPair(randomBytes(rng, KEYGEN_SEED_LENGTH));
      const mac = macHeader(state.auth, epoch, keys.header);
      const { encoder, chunk } = nextChunk(createEncoder(concat(keys.header, mac)));
      return {
        state: {
          kind: 'KeysSampled',
          epoch,
          auth: state.auth,
          ek: keys.encapsulationKey,
          dk: keys.decapsulationKey,
          sendingHdr: encoder,
        },
        epoch,
        payload: chunkPayload('hdr', chunk),
        epochSecret: null,
      };
    }
    case 'KeysSampled': {
      const { encoder, chunk } = nextChunk(state.sendingHdr);
      return {
        state: { ...state, sendingHdr: encoder },
        epoch,
        payload: chunkPayload('hdr', chunk),
        epochSecret: null,
      };
    }
    case 'HeaderSent': {
      const { encoder, chunk } = nextChunk(state.sendingEk);
      return {
        state: { ...state, sendingEk: encoder },
        epoch,
        payload: chunkPayload('ek', chunk),
        epochSecret: null,
      };
    }
    case 'Ct1Received': {
      const { encoder, chunk } = nextChunk(state.sendingEk);
      return {
        state: { ...state, sendingEk: encoder },
        epoch,
        payload: chunkPayload('ekCt1Ack', chunk),
        epochSecret: null,
      };
    }
    case 'EkSentCt1Received':
      return { state, epoch, payload: { type: 'ct1Ack' }, epochSecret: null };
    case 'NoHeaderReceived':
      return { state, epoch, payload: { type: 'none' }, epochSecret: null };
    case 'HeaderReceived': {
      const encaps = mlKem768Encapsulate1(state.hdr, randomBytes(rng, ENCAPS_RANDOMNESS_LENGTH));
      const secret = epochSecretFrom(encaps.sharedSecret, epoch);
      encaps.sharedSecret.fill(0);
      const auth = updateAuthenticator(state.auth, epoch, secret);
      const { encoder, chunk } = nextChunk(createEncoder(encaps.ct1));
      return {
        state: {
          kind: 'Ct1Sampled',
          epoch,
          auth,
          hdr: state.hdr,
          encapsRandomness: encaps.randomness,
          ct1: encaps.ct1,
          sendingCt1: encoder,
          receivingEk: createDecoder(EK_PAYLOAD_LENGTH),
        },
        epoch,
        payload: chunkPayload('ct1', chunk),
        epochSecret: { epoch, secret },
      };
    }
    case 'Ct1Sampled': {
      const { encoder, chunk } = nextChunk(state.sendingCt1);
      return {
        state: { ...state, sendingCt1: encoder },
        epoch,
        payload: chunkPayload('ct1', chunk),
        epochSecret: null,
      };
    }
    case 'EkReceivedCt1Sampled': {
      const { encoder, chunk } = nextChunk(state.sendingCt1);
      return {
        state: { ...state, sendingCt1: encoder },
        epoch,
        payload: chunkPayload('ct1', chunk),
        epochSecret: null,
      };
    }
    case 'Ct1Acknowledged':
      return { state, epoch, payload: { type: 'none' }, epochSecret: null };
    case 'Ct2Sampled': {
      const { encoder, chunk } = nextChunk(state.sendingCt2);
      return {
        state: { ...state, sendingCt2: encoder },
        epoch,
        payload: chunkPayload('ct2', chunk),
        epochSecret: null,
      };
    }
  }
}

export interface BraidRecvResult {
  readonly state: BraidState;
  readonly epochSecret: EpochSecret | null;
}

function unchanged(state: BraidState): BraidRecvResult {
  return { state, epochSecret: null };
}

/** Processes one incoming payload of `epoch` (spqr `States::recv`). */
export function braidRecv(state: BraidState, epoch: number, payload: SpqrPayload): BraidRecvResult {
  if (epoch > state.epoch) {
    if (state.kind === 'Ct2Sampled' && epoch === state.epoch + 1) {
      // The peer finished the epoch: roles swap, we become the send_ek side.
      return unchanged({ kind: 'KeysUnsampled', epoch, auth: state.auth });
    }
    throw new ProtocolError('PQ_RATCHET', `epoch not in valid range: ${epoch}`);
  }
  if (epoch < state.epoch) return unchanged(state);

  switch (state.kind) {
    case 'KeysUnsampled':
    case 'HeaderReceived':
    case 'Ct2Sampled':
      return unchanged(state);

    case 'KeysSampled': {
      if (payload.type !== 'ct1') return unchanged(state);
      return unchanged({
        kind: 'HeaderSent',
        epoch,
        auth: state.auth,
        dk: state.dk,
        sendingEk: createEncoder(state.ek),
        receivingCt1: addChunk(createDecoder(CT1_PAYLOAD_LENGTH), payload.chunk),
      });
    }

    case 'HeaderSent': {
      if (payload.type !== 'ct1') return unchanged(state);
      const receivingCt1 = addChunk(state.receivingCt1, payload.chunk);
      const ct1 = decodedMessage(receivingCt1);
      if (ct1 === null) return unchanged({ ...state, receivingCt1 });
      return unchanged({
        kind: 'Ct1Received',
        epoch,
        auth: state.auth,
        dk: state.dk,
        ct1,
        sendingEk: state.sendingEk,
      });
    }

    case 'Ct1Received': {
      if (payload.type !== 'ct2') return unchanged(state);
      return unchanged({
        kind: 'EkSentCt1Received',
        epoch,
        auth: state.auth,
        dk: state.dk,
        ct1: state.ct1,
        receivingCt2: addChunk(createDecoder(CT2_PAYLOAD_LENGTH), payload.chunk),
      });
    }

    case 'EkSentCt1Received': {
      if (payload.type !== 'ct2') return unchanged(state);
      const receivingCt2 = addChunk(state.receivingCt2, payload.chunk);
      const decoded = decodedMessage(receivingCt2);
      if (decoded === null) return unchanged({ ...state, receivingCt2 });
      const ct2 = decoded.subarray(0, ML_KEM_768_CT2_LENGTH);
      const mac = decoded.subarray(ML_KEM_768_CT2_LENGTH);
      const ciphertext = concat(state.ct1, ct2);
      const sharedSecret = mlKem768Decapsulate(ciphertext, state.dk);
      const secret = epochSecretFrom(sharedSecret, epoch);
      sharedSecret.fill(0);
      const auth = updateAuthenticator(state.auth, epoch, secret);
      verifyCiphertextMac(auth, epoch, ciphertext, mac);
      return {
        state: {
          kind: 'NoHeaderReceived',
          epoch: epoch + 1,
          auth,
          receivingHdr: createDecoder(HEADER_PAYLOAD_LENGTH),
        },
        epochSecret: { epoch, secret },
      };
    }

    case 'NoHeaderReceived': {
      if (payload.type !== 'hdr') return unchanged(state);
      const receivingHdr = addChunk(state.receivingHdr, payload.chunk);
      const decoded = decodedMessage(receivingHdr);
      if (decoded === null) return unchanged({ ...state, receivingHdr });
      const hdr = decoded.slice(0, ML_KEM_768_HEADER_LENGTH);
      verifyHeaderMac(state.auth, epoch, hdr, decoded.subarray(ML_KEM_768_HEADER_LENGTH));
      return unchanged({ kind: 'HeaderReceived', epoch, auth: state.auth, hdr });
    }

    case 'Ct1Sampled': {
      if (payload.type !== 'ek' && payload.type !== 'ekCt1Ack') return unchanged(state);
      const ack = payload.type === 'ekCt1Ack';
      const receivingEk = addChunk(state.receivingEk, payload.chunk);
      const ek = decodedMessage(receivingEk);
      if (ek !== null) {
        const ct2WithMac = sendCt2(
          state.auth,
          epoch,
          state.hdr,
          state.encapsRandomness,
          state.ct1,
          ek,
        );
        if (ack) {
          return unchanged({
            kind: 'Ct2Sampled',
            epoch,
            auth: state.auth,
            sendingCt2: createEncoder(ct2WithMac),
          });
        }
        return unchanged({
          kind: 'EkReceivedCt1Sampled',
          epoch,
          auth: state.auth,
          ct2WithMac,
          sendingCt1: state.sendingCt1,
        });
      }
      if (ack) {
        return unchanged({
          kind: 'Ct1Acknowledged',
          epoch,
          auth: state.auth,
          hdr: state.hdr,
          encapsRandomness: state.encapsRandomness,
          ct1: state.ct1,
          receivingEk,
        });
      }
      return unchanged({ ...state, receivingEk });
    }

    case 'EkReceivedCt1Sampled': {
      if (payload.type !== 'ct1Ack' && payload.type !== 'ekCt1Ack') return unchanged(state);
      return unchanged({
        kind: 'Ct2Sampled',
        epoch,
        auth: state.auth,
        sendingCt2: createEncoder(state.ct2WithMac),
      });
    }

    case 'Ct1Acknowledged': {
      if (payload.type !== 'ek' && payload.type !== 'ekCt1Ack') return unchanged(state);
      const receivingEk = addChunk(state.receivingEk, payload.chunk);
      const ek = decodedMessage(receivingEk);
      if (ek === null) return unchanged({ ...state, receivingEk });
      const ct2WithMac = sendCt2(
        state.auth,
        epoch,
        state.hdr,
        state.encapsRandomness,
        state.ct1,
        ek,
      );
      return unchanged({
        kind: 'Ct2Sampled',
        epoch,
        auth: state.auth,
        sendingCt2: createEncoder(ct2WithMac),
      });
    }
  }
}
