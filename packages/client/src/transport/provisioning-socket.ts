/**
 * The new device's side of the relay's provisioning socket (packages/api routes.ts
 * `provisioningSocket`, frames.ts PROVISIONING_ADDRESS / PROVISION_ENVELOPE): an unauthenticated
 * WebSocket that first names its address, then delivers at most one ProvisionEnvelope and
 * closes. Nothing is ever sent on it. Opened through the same injected `webSocketFactory` as the
 * message socket.
 */
import { decodeProvisioningFrame, type ProvisioningFrame } from '@sotto/api';
import { ClientError } from '../errors.js';
import type { WebSocketFactory, WebSocketLike } from './message-socket.js';

/** The relay's close code for a provisioning socket that expired unused. */
const CLOSE_EXPIRED = 4408;

export interface ProvisioningSocket {
  /** The relay's address of this socket (rejects if the socket fails first). */
  readonly address: Promise<string>;
  /** The ProvisionEnvelope the primary sent (rejects on close, expiry or `close()`). */
  readonly envelope: Promise<Uint8Array>;
  /** Ends the link attempt; resolves once the socket is closed (at most PROVISIONING_CLOSE_WAIT_MS). */
  close(reason?: ClientError): Promise<void>;
}

/** How long `close()` waits for the relay to end the closing handshake. */
export const PROVISIONING_CLOSE_WAIT_MS = 2_000;

export function openProvisioningSocket(url: string, factory: WebSocketFactory): ProvisioningSocket {
  let resolveAddress!: (address: string) => void;
  let rejectAddress!: (err: Error) => void;
  let resolveEnvelope!: (envelope: Uint8Array) => void;
  let rejectEnvelope!: (err: Error) => void;
  const address = new Promise<string>((resolve, reject) => {
    resolveAddress = resolve;
    rejectAddress = reject;
  });
  const envelope = new Promise<Uint8Array>((resolve, reject) => {
    resolveEnvelope = resolve;
    rejectEnvelope = reject;
  });
  // Callers may await only one of the two; the other's rejection must not go unhandled.
  address.catch(() => undefined);
  envelope.catch(() => undefined);

  let done = false;
  let socket: WebSocketLike | null = null;
  let closed: Promise<void> = Promise.resolve();
  /**
   * Detaches the handlers and closes the socket (once the envelope came, or on failure). Resolves
   * when the closing handshake is over — the relay has then seen the close and gives the address
   * to nobody — or after PROVISIONING_CLOSE_WAIT_MS.
   */
  const closeSocket = (): Promise<void> => {
    const s = socket;
    socket = null;
    if (s === null) return closed;
    closed = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, PROVISIONING_CLOSE_WAIT_MS);
      s.onopen = s.onmessage = s.onerror = null;
      s.onclose = () => {
        clearTimeout(timer);
        resolve();
      };
      try {
        s.close(1000, 'done');
      } catch {
        clearTimeout(timer);
        resolve(); // already closed
      }
    });
    return closed;
  };
  const fail = (err: Error): void => {
    if (done) return;
    done = true;
    rejectAddress(err);
    rejectEnvelope(err);
    void closeSocket();
  };

  try {
    socket = factory(url, { headers: {} });
  } catch (cause) {
    fail(new ClientError('NETWORK', 'the relay could not be reached', { cause }));
    return { address, envelope, close: () => Promise.resolve() };
  }
  socket.binaryType = 'arraybuffer';
  socket.onmessage = (event) => {
    const data = event.data;
    let frame: ProvisioningFrame;
    try {
      if (!(data instanceof ArrayBuffer) && !(data instanceof Uint8Array)) throw new Error('text');
      frame = decodeProvisioningFrame(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
    } catch (cause) {
      fail(
        new ClientError('LINK_FAILED', 'the relay sent a malformed provisioning frame', { cause }),
      );
      return;
    }
    if (frame.type === 'provisioning-address') {
      resolveAddress(frame.address);
      return;
    }
    const copy = frame.envelope.slice();
    resolveEnvelope(copy);
    rejectAddress(new ClientError('LINK_FAILED', 'the relay sent no address'));
    done = true;
    void closeSocket();
  };
  socket.onerror = () => {
    // `onclose` follows and decides.
  };
  socket.onclose = (event) => {
    socket = null;
    fail(
      event.code === CLOSE_EXPIRED
        ? new ClientError('TIMEOUT', 'the link expired before the primary approved it')
        : new ClientError('NETWORK', 'the relay closed the provisioning connection'),
    );
  };
  return {
    address,
    envelope,
    close: (reason) => {
      fail(reason ?? new ClientError('CLOSED', 'linking was cancelled'));
      return closed;
    },
  };
}
