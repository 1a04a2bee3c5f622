import { PosError } from '../../errors.js';

export type DeviceUri =
  | { kind: 'none' }
  | { kind: 'sim'; name: string; options: Record<string, string> }
  | { kind: 'tcp'; host: string; port: number }
  | {
      kind: 'serial';
      path: string;
      baudRate: number;
      dataBits: 7 | 8;
      parity: 'none' | 'even' | 'odd';
      stopBits: 1 | 2;
      rtscts: boolean;
    }
  | { kind: 'file'; path: string }
  | { kind: 'hid'; vendorId: number; productId: number; serialNumber?: string };

const BAUD_RATES = new Set([1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400]);

function invalid(uri: string, why: string): PosError {
  return new PosError('DEVICE_URI_INVALID', `${why} (in "${uri}")`, { uri });
}

function parseSerial(uri: string, url: URL): DeviceUri {
  if (url.host !== '' || !url.pathname.startsWith('/dev/')) {
    throw invalid(uri, 'a serial device is serial:///dev/NAME');
  }
  const baud = url.searchParams.get('baud') ?? '9600';
  const baudRate = Number(baud);
  if (!BAUD_RATES.has(baudRate)) throw invalid(uri, `baud must be one of ${[...BAUD_RATES].join(', ')}`);
  const dataBits = Number(url.searchParams.get('dataBits') ?? '8');
  if (dataBits !== 7 && dataBits !== 8) throw invalid(uri, 'dataBits must be 7 or 8');
  const parity = url.searchParams.get('parity') ?? 'none';
  if (parity !== 'none' && parity !== 'even' && parity !== 'odd')
    throw invalid(uri, 'parity must be none, even or odd');
  const stopBits = Number(url.searchParams.get('stopBits') ?? '1');
  if (stopBits !== 1 && stopBits !== 2) throw invalid(uri, 'stopBits must be 1 or 2');
  const flow = url.searchParams.get('flow') ?? 'none';
  if (flow !== 'none' && flow !== 'rtscts') throw invalid(uri, 'flow must be none or rtscts');
  return {
    kind: 'serial',
    path: decodeURIComponent(url.pathname),
    baudRate,
    dataBits,
    parity,
    stopBits,
    rtscts: flow === 'rtscts',
  };
}

function parseHid(uri: string): DeviceUri {
  const m = /^hid:\/\/([0-9a-fA-F]{4}):([0-9a-fA-F]{4})(?:\?serial=([^&]+))?$/.exec(uri);
  if (!m) throw invalid(uri, 'a HID device is hid://VID:PID with 4 hex digits each');
  const result: DeviceUri = {
    kind: 'hid',
    vendorId: Number.parseInt(m[1]!, 16),
    productId: Number.parseInt(m[2]!, 16),
  };
  if (m[3] !== undefined) result.serialNumber = decodeURIComponent(m[3]);
  return result;
}

/** Parses a device address from config: tcp://, serial://, file://, hid://, sim: or none. */
export function parseDeviceUri(uri: string): DeviceUri {
  if (uri === 'none' || uri === '') return { kind: 'none' };
  if (uri === 'sim:' || uri.startsWith('sim:')) {
    const rest = uri.slice(4);
    const [name, query] = rest.split('?', 2) as [string, string | undefined];
    const options = Object.fromEntries(new URLSearchParams(query ?? ''));
    return { kind: 'sim', name: name || 'default', options };
  }
  if (uri.startsWith('hid://')) return parseHid(uri);
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw invalid(uri, 'not a device address: use tcp://, serial://, file://, hid://, sim: or none');
  }
  switch (url.protocol) {
    case 'tcp:': {
      if (!url.hostname) throw invalid(uri, 'a network device is tcp://HOST:PORT');
      const port = url.port === '' ? 9100 : Number(url.port);
      return { kind: 'tcp', host: url.hostname.replace(/^\[|\]$/g, ''), port };
    }
    case 'serial:':
      return parseSerial(uri, url);
    case 'file:':
      if (!url.pathname.startsWith('/')) throw invalid(uri, 'a device file is file:///dev/NAME');
      return { kind: 'file', path: decodeURIComponent(url.pathname) };
    default:
      throw invalid(
        uri,
        `unknown scheme "${url.protocol}": use tcp://, serial://, file://, hid://, sim: or none`,
      );
  }
}
