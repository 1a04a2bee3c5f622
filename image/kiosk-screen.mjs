#!/usr/bin/env node
// The kiosk on screen, from the host side of image/test.sh:
//   kiosk-screen.mjs shot QMP_SOCKET OUT.png   QMP `screendump` of the guest's display as a PNG
//   kiosk-screen.mjs pin QMP_SOCKET 2468 SHOT.png [CONSOLE.log]  taps the PIN and OK on the keypad found in
//                                              SHOT.png (a virtio tablet: absolute pointer), each
//                                              key until its dot shows; exit 0 once signed in
//   kiosk-screen.mjs customer QMP_SOCKET OUT.png  the second screen's dump: the customer page?
//   kiosk-screen.mjs check OUT.png             is it the PIN keypad? prints the figures as JSON;
//                                              exit 0 when it is, 1 when not
// The check reads the picture as a person would glance at it: the sign-in page's warm background
// (--bg #f4f1ec) fills most of the screen, white keys (--panel) make a block in it, the OK key is
// the accent green, and there is dark text. A blank screen, a console, or Chromium's own error page
// (white) fails it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '..', 'package.json'));

const near = (r, g, b, [R, G, B], tol = 10) =>
  Math.abs(r - R) <= tol && Math.abs(g - G) <= tol && Math.abs(b - B) <= tol;
const BG = [0xf4, 0xf1, 0xec];
const DANGER = [0xb3, 0x26, 0x1e];
/** image/files/selftest-kiosk.mjs's console line once the kiosk's page is signed in. */
const SIGNED_IN = 'POSD-SELFTEST: kiosk signed in';
const PANEL = [0xff, 0xff, 0xff];
const ACCENT = [0x1f, 0x7a, 0x4d];

/** Figures of a decoded RGBA picture and whether they are the keypad's. */
export function keypadFigures({ width, height, data }) {
  let bg = 0;
  let panel = 0;
  let accent = 0;
  let dark = 0;
  let minX = width;
  let maxX = -1;
  let minY = height;
  let maxY = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const r = data[i];
      const g = data[i + 1];
      const b = data[i + 2];
      if (near(r, g, b, BG, 6)) bg++;
      else if (near(r, g, b, PANEL, 3)) {
        panel++;
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        minY = Math.min(minY, y);
        maxY = Math.max(maxY, y);
      } else if (near(r, g, b, ACCENT, 24)) accent++;
      else if (r + g + b < 200) dark++;
    }
  }
  const n = width * height;
  const share = (k) => Math.round((k / n) * 10_000) / 10_000;
  const figures = {
    width,
    height,
    background: share(bg),
    keys: share(panel),
    accent: share(accent),
    dark: share(dark),
    // The white keys sit together in the middle, not across the whole screen.
    keysBox: maxX < 0 ? null : { x: minX, y: minY, w: maxX - minX + 1, h: maxY - minY + 1 },
  };
  const box = figures.keysBox;
  const reasons = [];
  if (figures.background < 0.4) reasons.push(`background ${figures.background} < 0.4`);
  if (figures.keys < 0.02 || figures.keys > 0.4) reasons.push(`keys ${figures.keys} outside 0.02..0.4`);
  if (figures.accent < 0.001) reasons.push(`no accent-green OK key (${figures.accent})`);
  if (figures.dark < 0.0005) reasons.push(`no dark text (${figures.dark})`);
  if (!box || box.w > width * 0.8 || box.h > height * 0.9) reasons.push('the keys do not make a block');
  return { keypad: reasons.length === 0, reasons, figures };
}

const CUSTOMER_BG = [0x1f, 0x2a, 0x24];

/** Is it the customer page (ui/style.css .customer-body: dark green, white text)? */
export function customerFigures({ width, height, data }) {
  let bg = 0;
  let light = 0;
  for (let i = 0; i < width * height * 4; i += 4) {
    if (near(data[i], data[i + 1], data[i + 2], CUSTOMER_BG, 6)) bg++;
    else if (data[i] + data[i + 1] + data[i + 2] > 600) light++;
  }
  const n = width * height;
  const figures = { width, height, background: bg / n, text: light / n };
  const reasons = [];
  if (figures.background < 0.6) reasons.push(`background ${figures.background.toFixed(4)} < 0.6`);
  if (figures.text < 0.0005) reasons.push(`no light text (${figures.text.toFixed(4)})`);
  return { customer: reasons.length === 0, reasons, figures };
}

export function checkPng(file) {
  return keypadFigures(readPng(file));
}

function readPng(file) {
  const { PNG } = require('pngjs');
  return PNG.sync.read(readFileSync(file));
}

/**
 * What the sign-in page shows above the keys found earlier (`box`): how many PIN dots (the dark
 * glyphs of the line between the title and the keys, counted as separate runs of columns) and
 * whether the red error line ("wrong PIN") is there. The page's layout (ui/style.css): keys at
 * box.y, above them a 12 px gap, the error line (1.4rem), a gap, the dots' line (2.4rem).
 */
export function pinLine({ width, height, data }, box) {
  const dark = (x, y) => {
    const i = (y * width + x) * 4;
    return data[i] + data[i + 1] + data[i + 2] < 200;
  };
  const x0 = Math.max(0, box.x);
  const x1 = Math.min(width, box.x + box.w);
  let dots = 0;
  let inDot = false;
  for (let x = x0; x < x1; x++) {
    let n = 0;
    for (let y = Math.max(0, box.y - 90); y < Math.max(0, box.y - 40); y++) if (dark(x, y)) n++;
    if (n >= 2 && !inDot) dots++;
    inDot = n >= 2;
  }
  let red = 0;
  for (let y = Math.max(0, box.y - 40); y < Math.min(height, box.y - 4); y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * width + x) * 4;
      if (near(data[i], data[i + 1], data[i + 2], DANGER, 40)) red++;
    }
  }
  return { dots, error: red >= 20 };
}

/**
 * The sign-in screen now: the keypad's dots and error line, or the signed-in page (the app's warm
 * background without the keypad). Anything else (black while the kiosk restarts, white while a
 * page loads) is neither. `box` is where the keys are (as last seen when not on this screen).
 */
export function pinScreen(png, box) {
  const { keypad, figures } = keypadFigures(png);
  // The keys where this picture shows them: the page may lay itself out again (a window resized
  // to full screen after its first paint moved them by 130 px).
  const at = keypad ? figures.keysBox : box;
  return { keypad, signedIn: !keypad && figures.background >= 0.3, ...pinLine(png, at), box: at };
}

/**
 * Enters the PIN as a cashier would, watching the screen: each key is tapped until its dot shows
 * (a tap the emulated guest lost is tapped again), a key that counted twice clears the line and
 * starts over, and OK is tapped until the page is signed in. `io.tap(key)` taps a key, `io.look()`
 * returns `pinScreen()` of the screen now, `io.signedIn()` (optional) tells of a sign-in seen
 * another way (the guest's console). Resolves with what it took; throws when the tries run out.
 */
export async function enterPin(io, pin, { tries = 4, settleMs = 15_000, step = 500 } = {}) {
  const taps = { keys: 0, retaps: 0, restarts: 0, seen: 'screen' };
  const elsewhere = async () => (io.signedIn ? await io.signedIn() : false);
  let done = false;
  const watch = async (until, ms = settleMs) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const seen = await io.look();
      if (seen.signedIn) done = true;
      else if (await elsewhere()) {
        done = true;
        taps.seen = 'console';
      }
      if (done || until(seen) || Date.now() > deadline) return seen;
      await pause(step);
    }
  };
  for (let attempt = 0; attempt < tries; attempt++) {
    let seen = await watch((s) => s.keypad);
    if (done) return taps;
    if (!seen.keypad) break;
    if (seen.dots > 0) {
      await io.tap('C');
      seen = await watch((s) => s.keypad && s.dots === 0);
      if (done) return taps;
    }
    let ok = seen.keypad && seen.dots === 0;
    for (let i = 0; ok && i < pin.length; i++) {
      let shown = false;
      for (let t = 0; t < tries && !shown; t++) {
        await io.tap(pin[i]);
        taps.keys += 1;
        if (t > 0) taps.retaps += 1;
        seen = await watch((s) => s.keypad && s.dots !== i);
        if (done) return taps;
        if (seen.dots > i + 1) break;
        shown = seen.keypad && seen.dots === i + 1;
      }
      ok = shown;
    }
    if (ok) {
      for (let t = 0; t < tries; t++) {
        await io.tap('OK');
        taps.keys += 1;
        // The page redraws once posd has answered: slow in an emulated guest.
        seen = await watch((s) => s.keypad && (s.error || s.dots === 0), settleMs * 2);
        if (done) return taps;
        if (seen.error || seen.dots === 0) break;
      }
    }
    taps.restarts += 1;
  }
  throw new Error(`the PIN was not taken in ${tries} tries (${JSON.stringify(taps)})`);
}

/** One QMP session: the greeting, capabilities, then each command in turn. */
function qmp(socket, commands) {
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket);
    const queue = [{ execute: 'qmp_capabilities' }, ...commands];
    const answers = [];
    let buf = '';
    let greeted = false;
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error('QMP: no answer in 60 s'));
    }, 60_000);
    const next = () => {
      const cmd = queue.shift();
      if (!cmd) {
        clearTimeout(timer);
        conn.end();
        resolve(answers);
        return;
      }
      conn.write(`${JSON.stringify(cmd)}\n`);
    };
    conn.on('data', (chunk) => {
      buf += chunk.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const msg = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (msg.QMP && !greeted) {
          greeted = true;
          next();
        } else if ('return' in msg) {
          answers.push(msg.return);
          next();
        } else if (msg.error) {
          clearTimeout(timer);
          conn.destroy();
          reject(new Error(`QMP: ${msg.error.desc}`));
        }
      }
    });
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Where each key of the sign-in keypad is: a 3 x 4 grid over the white keys' block (OK bottom right). */
export function keyCentres(box) {
  const at = (col, row) => ({ x: box.x + ((col + 0.5) * box.w) / 3, y: box.y + ((row + 0.5) * box.h) / 4 });
  const keys = { C: at(0, 3), 0: at(1, 3), OK: at(2, 3) };
  for (let d = 1; d <= 9; d++) keys[d] = at((d - 1) % 3, Math.floor((d - 1) / 3));
  return keys;
}

/** The pointer to a point of the picture and the button down there (a virtio tablet: absolute). */
const press = ({ x, y }, width, height) => [
  {
    execute: 'input-send-event',
    arguments: {
      events: [
        { type: 'abs', data: { axis: 'x', value: Math.round((x * 0x7fff) / (width - 1)) } },
        { type: 'abs', data: { axis: 'y', value: Math.round((y * 0x7fff) / (height - 1)) } },
      ],
    },
  },
  {
    execute: 'input-send-event',
    arguments: { events: [{ type: 'btn', data: { down: true, button: 'left' } }] },
  },
];
const release = [
  {
    execute: 'input-send-event',
    arguments: { events: [{ type: 'btn', data: { down: false, button: 'left' } }] },
  },
];
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
/** The guest's display as a PNG (`head`: another output of a display device). */
const screendump = (socket, file, head = {}) =>
  qmp(socket, [{ execute: 'screendump', arguments: { filename: file, format: 'png', ...head } }]);

async function cli([cmd, ...args]) {
  if (cmd === 'shot') {
    await screendump(args[0], args[1]);
    return 0;
  }
  if (cmd === 'pin') {
    const [socket, pin, first, consoleLog] = args;
    const { figures } = checkPng(first);
    let box = figures.keysBox;
    const shot = `${first}.now.png`;
    const io = {
      // A person's tap, where the last screen showed the key: libinput debounces the button, and
      // in an emulated guest its timers fire late ("your system is too slow"), so it is held a moment.
      tap: async (k) => {
        await qmp(socket, press(keyCentres(box)[k], figures.width, figures.height));
        await pause(150);
        await qmp(socket, release);
      },
      look: async () => {
        await screendump(socket, shot);
        const screen = pinScreen(readPng(shot), box);
        box = screen.box;
        return screen;
      },
      // The self-test's line once posd has seen the page's event stream signed in.
      signedIn: async () => consoleLog !== undefined && readFileSync(consoleLog, 'utf8').includes(SIGNED_IN),
    };
    try {
      process.stdout.write(`${JSON.stringify(await enterPin(io, pin))}\n`);
      return 0;
    } catch (err) {
      process.stderr.write(`kiosk-screen: ${err.message}\n`);
      return 1;
    }
  }
  if (cmd === 'customer') {
    // The second head of the display device (test.sh: -device virtio-gpu-pci,id=gpu0,max_outputs=2).
    await screendump(args[0], args[1], { device: 'gpu0', head: 1 });
    const r = customerFigures(readPng(args[1]));
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return r.customer ? 0 : 1;
  }
  if (cmd === 'check') {
    const r = checkPng(args[0]);
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return r.keypad ? 0 : 1;
  }
  process.stderr.write(
    'usage: kiosk-screen.mjs shot SOCKET OUT.png | pin SOCKET DIGITS SHOT.png [CONSOLE] | customer SOCKET OUT.png | check FILE.png\n',
  );
  return 2;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await cli(process.argv.slice(2));
