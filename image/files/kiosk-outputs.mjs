#!/usr/bin/env node
// The kiosk's screens, from `swaymsg -t get_outputs -r` on stdin:
//   kiosk-outputs.mjs          prints "CASHIER [CUSTOMER]": a built-in panel (eDP, LVDS, DSI) faces
//                              the cashier, else the first output sway lists; the next other output,
//                              where there is one, faces the customer (docs/operations.md)
//   kiosk-outputs.mjs --modes  prints sway commands, one per line, that bring a screen running above
//                              1920x1200 down to its largest mode within it: the kiosk draws with the
//                              CPU, and a 4K monitor as the customer's screen would take all of it
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

const MAX = { width: 1920, height: 1200 };

/** `output NAME mode WxH@R Hz` for each screen running above MAX with a mode within it. */
export function modeCommands(outputs) {
  const commands = [];
  for (const o of Array.isArray(outputs) ? outputs : []) {
    if (!o || o.active === false || typeof o.name !== 'string' || !NAME.test(o.name)) continue;
    const now = o.current_mode;
    if (!now || (now.width <= MAX.width && now.height <= MAX.height)) continue;
    const fits = (Array.isArray(o.modes) ? o.modes : []).filter(
      (m) =>
        Number.isInteger(m?.width) &&
        Number.isInteger(m?.height) &&
        Number.isInteger(m?.refresh) &&
        m.width <= MAX.width &&
        m.height <= MAX.height,
    );
    const best = fits.sort((a, b) => b.width * b.height - a.width * a.height || b.refresh - a.refresh)[0];
    if (best) {
      const hz = (best.refresh / 1000).toFixed(3);
      commands.push(`output ${o.name} mode ${best.width}x${best.height}@${hz}Hz`);
    }
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
  } else {
    const { cashier, customer } = chooseOutputs(outputs);
    process.stdout.write(`${[cashier, customer].filter(Boolean).join(' ')}\n`);
  }
}
