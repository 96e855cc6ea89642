/**
 * The device-list check of a send (ARCHITECTURE.md step 5): the envelopes must name exactly the
 * recipient's current devices — minus the sending device when one writes to one's own account —
 * each with its current registration id. Mismatches answer 409 (missing and extra devices), then
 * 410 (stale registration ids), as Signal-Server does. Pure, so every storage adapter applies the
 * same rule inside its write transaction.
 */
export interface DeviceIdentity {
  readonly deviceId: number;
  readonly registrationId: number;
}

export type DeviceListProblem =
  | { readonly status: 'unknown-recipient' }
  | {
      readonly status: 'mismatched-devices';
      readonly missingDevices: readonly number[];
      readonly extraDevices: readonly number[];
    }
  | { readonly status: 'stale-devices'; readonly staleDevices: readonly number[] };

export function checkDeviceList(
  devices: readonly DeviceIdentity[],
  envelopes: readonly DeviceIdentity[],
  excludeDeviceId: number | null,
): DeviceListProblem | null {
  if (devices.length === 0) return { status: 'unknown-recipient' };
  const missingDevices: number[] = [];
  const staleDevices: number[] = [];
  for (const d of devices) {
    if (d.deviceId === excludeDeviceId) continue;
    const e = envelopes.find((x) => x.deviceId === d.deviceId);
    if (e === undefined) missingDevices.push(d.deviceId);
    else if (e.registrationId !== d.registrationId) staleDevices.push(d.deviceId);
  }
  const extraDevices: number[] = [];
  for (const e of envelopes) {
    if (e.deviceId === excludeDeviceId || !devices.some((d) => d.deviceId === e.deviceId)) {
      extraDevices.push(e.deviceId);
    }
  }
  if (missingDevices.length > 0 || extraDevices.length > 0) {
    return { status: 'mismatched-devices', missingDevices, extraDevices };
  }
  if (staleDevices.length > 0) return { status: 'stale-devices', staleDevices };
  return null;
}
