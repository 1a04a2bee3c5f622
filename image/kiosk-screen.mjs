#!/usr/bin/env node
// The kiosk on screen, from the host side of image/test.sh:
//   kiosk-screen.mjs shot QMP_SOCKET OUT.png   QMP `screendump` of the guest's display as a PNG
//   kiosk-screen.mjs pin QMP_SOCKET 2468 SHOT.png  taps the PIN and OK on the keypad found in
//                                              SHOT.png (a virtio tablet: absolute pointer)
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

export function checkPng(file) {
  const { PNG } = require('pngjs');
  return keypadFigures(PNG.sync.read(readFileSync(file)));
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
  const keys = { 0: at(1, 3), OK: at(2, 3) };
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

async function cli([cmd, ...args]) {
  if (cmd === 'shot') {
    await qmp(args[0], [{ execute: 'screendump', arguments: { filename: args[1], format: 'png' } }]);
    return 0;
  }
  if (cmd === 'pin') {
    const { figures } = checkPng(args[2]);
    const keys = keyCentres(figures.keysBox);
    for (const k of [...args[1], 'OK']) {
      // A person's tap and pace: libinput debounces the button, and in an emulated guest its timers
      // fire late ("your system is too slow"), so a press and release sent at once, or taps 200 ms
      // apart, lost digits (the wrong PIN on screen).
      await qmp(args[0], press(keys[k], figures.width, figures.height));
      await pause(150);
      await qmp(args[0], release);
      await pause(600);
    }
    return 0;
  }
  if (cmd === 'check') {
    const r = checkPng(args[0]);
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return r.keypad ? 0 : 1;
  }
  process.stderr.write(
    'usage: kiosk-screen.mjs shot SOCKET OUT.png | pin SOCKET DIGITS SHOT.png | check FILE.png\n',
  );
  return 2;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await cli(process.argv.slice(2));
