#!/usr/bin/env node
// The kiosk's screens, from `swaymsg -t get_outputs -r` on stdin:
//   kiosk-outputs.mjs          prints "CASHIER [CUSTOMER]": a built-in panel (eDP, LVDS, DSI) faces
//                              the cashier, else the first output sway lists; the next other output,
//                              where there is one, faces the customer (docs/operations.md)
//   kiosk-outputs.mjs --modes  prints sway commands, one per line, that bring a screen drawing more
//                              pixels than 1920x1200 down to its largest mode within it: the kiosk
//                              draws with the CPU, and a 4K monitor as the customer's would take it all
//   kiosk-outputs.mjs --inputs CASHIER   (stdin: `swaymsg -t get_inputs -r`) prints the sway
//                              commands that map touch input to the cashier's screen
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BUILT_IN = /^(eDP|LVDS|DSI)-/;
/** Connector names are [A-Za-z0-9-]: anything else is not put into sway commands. */
const NAME = /^[A-Za-z0-9-]{1,32}$/;

export function chooseOutputs(outputs) {
  const names = (Array.isArray(outputs) ? outputs : [])
    .filter((o) => o && o.active !== false && typeof o.name === 'string' && NAME.test(o.name))
    .map((o) => o.name);
  const cashier = names.find((n) => BUILT_IN.test(n)) ?? names[0];
  const customer = names.find((n) => n !== cashier);
  return { cashier, customer };
}

/** The most pixels the kiosk draws on one screen: 1920x1200, in any shape. */
const MAX_PIXELS = 1920 * 1200;

/**
 * `output NAME mode WxH@R Hz` for each screen running above MAX_PIXELS with a mode within it: the
 * largest of its own shape if there is one (no stretching), at the refresh nearest 60 Hz.
 */
export function modeCommands(outputs) {
  const commands = [];
  for (const o of Array.isArray(outputs) ? outputs : []) {
    if (!o || o.active === false || typeof o.name !== 'string' || !NAME.test(o.name)) continue;
    const now = o.current_mode;
    if (!now || !(now.width * now.height > MAX_PIXELS)) continue;
    const fits = (Array.isArray(o.modes) ? o.modes : []).filter(
      (m) =>
        Number.isInteger(m?.width) &&
        Number.isInteger(m?.height) &&
        Number.isInteger(m?.refresh) &&
        m.width > 0 &&
        m.height > 0 &&
        m.width * m.height <= MAX_PIXELS,
    );
    const shape = now.width / now.height;
    const sameShape = (m) => Math.abs(m.width / m.height - shape) < 0.01;
    const pool = fits.some(sameShape) ? fits.filter(sameShape) : fits;
    const best = pool.sort(
      (a, b) =>
        b.width * b.height - a.width * a.height ||
        Math.abs(a.refresh - 60_000) - Math.abs(b.refresh - 60_000),
    )[0];
    if (best) {
      const hz = (best.refresh / 1000).toFixed(3);
      commands.push(`output ${o.name} mode ${best.width}x${best.height}@${hz}Hz`);
    }
  }
  return commands;
}

/** Input identifiers as sway makes them (vendor:product:name, blanks as _); others are skipped. */
const INPUT = /^[A-Za-z0-9_:.+()/-]{1,128}$/;

/**
 * Touch belongs to the cashier's screen: sway would spread a touch screen, an absolute pointer or a
 * drawing tablet over every screen. Pointers (a mouse, an emulator's tablet) all go to the cashier's
 * screen; a touch screen or a pen tablet only where the board has exactly one of the kind, since a
 * second one is the customer's own (left to the board's udev rules, WL_OUTPUT).
 */
export function inputCommands(inputs, cashier) {
  if (typeof cashier !== 'string' || !NAME.test(cashier)) return [];
  const commands = [`input type:pointer map_to_output ${cashier}`];
  const list = Array.isArray(inputs) ? inputs : [];
  for (const type of ['touch', 'tablet_tool']) {
    const devices = list.filter((i) => i?.type === type);
    if (
      devices.length === 1 &&
      typeof devices[0].identifier === 'string' &&
      INPUT.test(devices[0].identifier)
    )
      commands.push(`input "${devices[0].identifier}" map_to_output ${cashier}`);
  }
  return commands;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let outputs = [];
  try {
    outputs = JSON.parse(readFileSync(0, 'utf8'));
  } catch {
    // no sway answer: one screen, the cashier's
  }
  if (process.argv[2] === '--modes') {
    for (const command of modeCommands(outputs)) process.stdout.write(`${command}\n`);
  } else if (process.argv[2] === '--inputs') {
    for (const command of inputCommands(outputs, process.argv[3])) process.stdout.write(`${command}\n`);
  } else {
    const { cashier, customer } = chooseOutputs(outputs);
    process.stdout.write(`${[cashier, customer].filter(Boolean).join(' ')}\n`);
  }
}
