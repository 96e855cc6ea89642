/**
 * The single-process fan-out (ARCHITECTURE.md "memory default"): a map from device to listeners.
 * Events are delivered synchronously to the listeners of that device in this process only.
 */
import type { DeviceEvent, FanOut, Unsubscribe } from '../ports/fan-out.js';

export class MemoryFanOut implements FanOut {
  private readonly listeners = new Map<string, Set<(e: DeviceEvent) => void>>();
  private readonly provisioning = new Map<string, Set<(envelope: Uint8Array) => boolean>>();

  publish(accountId: string, deviceId: number, event: DeviceEvent): void {
    const set = this.listeners.get(`${accountId}.${deviceId}`);
    if (set === undefined) return;
    // Copy: a listener may unsubscribe (close its socket) while we iterate.
    for (const listener of [...set]) listener(event);
  }

  subscribe(accountId: string, deviceId: number, listener: (e: DeviceEvent) => void): Unsubscribe {
    const key = `${accountId}.${deviceId}`;
    let set = this.listeners.get(key);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(key, set);
    }
    set.add(listener);
    return () => {
      const s = this.listeners.get(key);
      if (s === undefined) return;
      s.delete(listener);
      if (s.size === 0) this.listeners.delete(key);
    };
  }

  publishProvisioning(address: string, envelope: Uint8Array): Promise<boolean> {
    const set = this.provisioning.get(address);
    if (set === undefined) return Promise.resolve(false);
    let taken = false;
    for (const listener of [...set]) taken = listener(envelope) || taken;
    return Promise.resolve(taken);
  }

  subscribeProvisioning(address: string, listener: (envelope: Uint8Array) => boolean): Unsubscribe {
    let set = this.provisioning.get(address);
    if (set === undefined) {
      set = new Set();
      this.provisioning.set(address, set);
    }
    set.add(listener);
    return () => {
      const s = this.provisioning.get(address);
      if (s === undefined) return;
      s.delete(listener);
      if (s.size === 0) this.provisioning.delete(address);
    };
  }

  /** Devices with at least one listener (for tests and metrics). */
  get size(): number {
    return this.listeners.size;
  }

  close(): Promise<void> {
    this.listeners.clear();
    this.provisioning.clear();
    return Promise.resolve();
  }
}
