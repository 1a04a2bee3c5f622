/**
 * The device model shared by printer, scanner and display (UPOS-like): what a device can sense
 * (capabilities), what it senses now (status), and its state.
 */
export type DeviceKind = 'printer' | 'scanner' | 'display';

/** Internal lifecycle state of a device driver. */
export type DeviceState = 'closed' | 'idle' | 'busy' | 'error' | 'degraded';

/** The state as the local API reports it (local-v1 `GET /api/v1/devices`). */
export type ReportedDeviceState = 'ready' | 'busy' | 'error' | 'offline' | 'disabled';

export interface DeviceSnapshot {
  state: ReportedDeviceState;
  /** e.g. the printer adds paper ('ok' | 'near-end' | 'out') and cover ('closed' | 'open'). */
  [detail: string]: unknown;
}

export interface PosDevice {
  readonly kind: DeviceKind;
  readonly state: DeviceState;
  open(): Promise<void>;
  close(): Promise<void>;
  snapshot(): DeviceSnapshot;
}

/** Nothing wrong with it: working, at work, or not configured. */
export function deviceHealthy(state: string): boolean {
  return state === 'ready' || state === 'busy' || state === 'disabled';
}

export function reportedState(state: DeviceState, configured: boolean): ReportedDeviceState {
  if (!configured) return 'disabled';
  switch (state) {
    case 'idle':
      return 'ready';
    case 'busy':
      return 'busy';
    case 'error':
      return 'error';
    case 'closed':
    case 'degraded':
      return 'offline';
  }
}
