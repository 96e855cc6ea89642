/**
 * The fan-out port: how the node that stored an envelope tells the node holding the recipient
 * device's WebSocket (ARCHITECTURE.md, steps 5–6). Memory in one process (fan-out/memory-fan-out.ts);
 * Redis pub/sub across nodes later. Publishing happens only after the envelope is durable, so a
 * lost event costs latency (the device drains its mailbox on reconnect), never a message.
 */
import type { StoredEnvelope } from './storage.js';

export type DeviceEvent =
  /** A new envelope was committed to this device's mailbox. */
  | { readonly type: 'envelope'; readonly envelope: StoredEnvelope }
  /** The device was removed, its account deleted or re-registered: close its connections. */
  | { readonly type: 'device-removed' }
  /** Another connection of the same device opened; the one with a different id closes. */
  | { readonly type: 'displaced'; readonly connectionId: string };

export type Unsubscribe = () => void;

export interface FanOut {
  publish(accountId: string, deviceId: number, event: DeviceEvent): void;
  subscribe(
    accountId: string,
    deviceId: number,
    listener: (event: DeviceEvent) => void,
  ): Unsubscribe;
  /**
   * Device linking (routes/provisioning.ts): hands a ProvisionEnvelope to the node holding the
   * provisioning socket at `address`. Resolves true if a socket there took it (its listener
   * returned true: open, and not yet used), false otherwise. Nothing is stored: an envelope for an
   * address nobody listens on, or whose socket is closing, is dropped.
   */
  publishProvisioning(address: string, envelope: Uint8Array): Promise<boolean>;
  subscribeProvisioning(address: string, listener: (envelope: Uint8Array) => boolean): Unsubscribe;
  close(): Promise<void>;
}
