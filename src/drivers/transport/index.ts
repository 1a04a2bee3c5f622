import { PosError } from '../../errors.js';
import { FileTransport, type FileTransportOptions } from './file-transport.js';
import { describe } from './reconnecting-transport.js';
import { SerialTransport } from './serial-transport.js';
import { TcpTransport } from './tcp-transport.js';
import type { Transport } from './transport.js';
import type { DeviceUri } from './uri.js';

export interface CreateTransportOptions extends FileTransportOptions {
  connectTimeoutMs?: number;
  /** Builds the transport of a `sim:` address (the app knows where its simulators listen). */
  sim?: (uri: Extract<DeviceUri, { kind: 'sim' }>) => Transport;
}

/** The byte transport for a parsed device address (tcp, serial, file; sim through `options.sim`). */
export function createTransport(uri: DeviceUri, options: CreateTransportOptions = {}): Transport {
  switch (uri.kind) {
    case 'tcp':
      return new TcpTransport(
        uri,
        options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {},
      );
    case 'serial':
      return new SerialTransport(uri);
    case 'file':
      return new FileTransport(uri, options);
    case 'sim':
      if (options.sim) return options.sim(uri);
      break;
    case 'hid':
    case 'none':
      break;
  }
  throw new PosError('DEVICE_URI_INVALID', `no byte transport for ${describe(uri)}`, { uri: describe(uri) });
}

export { type LinkHealth, ReconnectingTransport, type ReconnectOptions } from './reconnecting-transport.js';
export type { Transport, TransportState } from './transport.js';
export type { DeviceUri } from './uri.js';
export { parseDeviceUri } from './uri.js';
