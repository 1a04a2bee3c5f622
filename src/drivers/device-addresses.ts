import { PosError } from '../errors.js';
import type { CommandSetName } from './display/command-sets.js';
import { milliseconds, oneOf, splitDriverParams } from './driver-params.js';
import type { WedgeSuffix } from './scanner/keyboard-wedge.js';
import type { SerialFraming } from './scanner/serial-framer.js';
import { type DeviceUri, parseDeviceUri } from './transport/uri.js';

/** `scanner.uri` with its driver options (query parameters next to the transport's own). */
export interface ScannerAddress {
  raw: string;
  uri: DeviceUri;
  /** HID: report format; `auto` follows the interface's usage page (0x8C = HID-POS). */
  mode: 'auto' | 'keyboard' | 'pos';
  /** HID keyboard: the key that ends a code. */
  suffix: WedgeSuffix;
  /** Serial, TCP, sim: CR/LF-terminated lines or pause-terminated codes. */
  framing: SerialFraming;
  /** Inter-key / inter-byte / inter-report timeout. */
  timeoutMs?: number;
}

/** `display.uri` with its command set. */
export interface DisplayAddress {
  raw: string;
  uri: DeviceUri;
  commands: CommandSetName;
}

const SCANNER_KEYS = ['mode', 'suffix', 'framing', 'timeoutMs'] as const;
const DISPLAY_KEYS = ['commands'] as const;

/** Parses `scanner.uri` (throws DEVICE_URI_INVALID), e.g. `hid://0c2e:0b61?suffix=tab`. */
export function parseScannerAddress(raw: string): ScannerAddress {
  const { base, params } = splitDriverParams(raw, SCANNER_KEYS);
  const uri = parseDeviceUri(base);
  if (uri.kind === 'file') {
    throw new PosError(
      'DEVICE_URI_INVALID',
      `a scanner is hid://, serial://, tcp://, sim: or none (in "${raw}")`,
      {
        uri: raw,
      },
    );
  }
  const timeoutMs = milliseconds(raw, 'timeoutMs', params.get('timeoutMs'));
  return {
    raw,
    uri,
    mode: oneOf(raw, 'mode', params.get('mode'), ['auto', 'keyboard', 'pos'] as const) ?? 'auto',
    suffix: oneOf(raw, 'suffix', params.get('suffix'), ['enter', 'tab', 'none'] as const) ?? 'enter',
    framing: oneOf(raw, 'framing', params.get('framing'), ['suffix', 'timeout'] as const) ?? 'suffix',
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
}

/** Parses `display.uri` (throws DEVICE_URI_INVALID), e.g. `serial:///dev/posd-display?commands=cd5220`. */
export function parseDisplayAddress(raw: string): DisplayAddress {
  const { base, params } = splitDriverParams(raw, DISPLAY_KEYS);
  const uri = parseDeviceUri(base);
  if (uri.kind === 'hid') {
    throw new PosError(
      'DEVICE_URI_INVALID',
      `a display is serial://, tcp://, file://, sim: or none (in "${raw}")`,
      {
        uri: raw,
      },
    );
  }
  return {
    raw,
    uri,
    commands: oneOf(raw, 'commands', params.get('commands'), ['epson', 'cd5220'] as const) ?? 'epson',
  };
}
