import type { DisplayLines } from './screens.js';

export type CommandSetName = 'epson' | 'cd5220';

/** The bytes a VFD command set needs to initialise the display and show two lines. */
export interface VfdCommandSet {
  readonly name: CommandSetName;
  init(): Uint8Array;
  show(lines: DisplayLines): Uint8Array;
}

const ESC = 0x1b;
const US = 0x1f;
const CLR = 0x0c;
const CR = 0x0d;

const ascii = (s: string) => Buffer.from(s, 'latin1');

/**
 * Epson DM-D (ESC/POS for customer displays): ESC @ initialise, US MD1 overwrite mode, US C 0
 * cursor off; each screen: CLR, then US $ x y (1-based column, row) before each line.
 */
export const EPSON_DMD: VfdCommandSet = {
  name: 'epson',
  init: () => Uint8Array.of(ESC, 0x40, US, 0x01, US, 0x43, 0x00),
  show: ([l1, l2]) =>
    Buffer.concat([Uint8Array.of(CLR, US, 0x24, 1, 1), ascii(l1), Uint8Array.of(US, 0x24, 1, 2), ascii(l2)]),
};

/**
 * CD5220: ESC @ initialise, ESC DC1 overwrite mode, ESC _ 0 cursor off; each screen: CLR, then
 * ESC Q A <upper line> CR and ESC Q B <lower line> CR.
 */
export const CD5220: VfdCommandSet = {
  name: 'cd5220',
  init: () => Uint8Array.of(ESC, 0x40, ESC, 0x11, ESC, 0x5f, 0x00),
  show: ([l1, l2]) =>
    Buffer.concat([
      Uint8Array.of(CLR, ESC, 0x51, 0x41),
      ascii(l1),
      Uint8Array.of(CR, ESC, 0x51, 0x42),
      ascii(l2),
      Uint8Array.of(CR),
    ]),
};

export function commandSet(name: CommandSetName): VfdCommandSet {
  return name === 'cd5220' ? CD5220 : EPSON_DMD;
}
