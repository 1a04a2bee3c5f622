import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseOutputs, inputCommands, modeCommands } from '../../image/files/kiosk-outputs.mjs';

// The kiosk's screens (image/files/kiosk-browser): which output shows the cashier page and which
// the customer page, from what sway reports.
const out = (name: string, active = true) => ({ name, active, make: 'x', model: 'y' });
const SCRIPT = join(resolve(import.meta.dirname, '../..'), 'image/files/kiosk-outputs.mjs');

describe('the kiosk’s screens', () => {
  it('one screen: the cashier’s, no customer page', () => {
    expect(chooseOutputs([out('Virtual-1')])).toEqual({ cashier: 'Virtual-1', customer: undefined });
  });

  it('a built-in panel faces the cashier, wherever sway lists it; the other screen the customer', () => {
    expect(chooseOutputs([out('HDMI-A-1'), out('eDP-1')])).toEqual({
      cashier: 'eDP-1',
      customer: 'HDMI-A-1',
    });
    expect(chooseOutputs([out('DSI-1'), out('DP-1')])).toEqual({ cashier: 'DSI-1', customer: 'DP-1' });
    expect(chooseOutputs([out('Virtual-1'), out('Virtual-2')])).toEqual({
      cashier: 'Virtual-1',
      customer: 'Virtual-2',
    });
  });

  it('skips screens switched off and names that are not connector names', () => {
    expect(chooseOutputs([out('eDP-1'), out('HDMI-A-1', false), out('DP-2')])).toEqual({
      cashier: 'eDP-1',
      customer: 'DP-2',
    });
    expect(chooseOutputs([out('eDP-1'), out('x"; exec sh')])).toEqual({
      cashier: 'eDP-1',
      customer: undefined,
    });
    expect(chooseOutputs({ error: 'no sway' })).toEqual({ cashier: undefined, customer: undefined });
  });

  it('prints the choice for kiosk-browser, and nothing breaks on no answer from sway', () => {
    const run = (input: string) => spawnSync(process.execPath, [SCRIPT], { input, encoding: 'utf8' });
    expect(run(JSON.stringify([out('HDMI-A-1'), out('eDP-1')])).stdout).toBe('eDP-1 HDMI-A-1\n');
    const none = run('');
    expect(none.status).toBe(0);
    expect(none.stdout).toBe('\n');
  });
});

describe('the kiosk’s screen modes', () => {
  const mode = (width: number, height: number, refresh = 60_000) => ({ width, height, refresh });
  it('brings a screen above 1920x1200 down to its largest mode within it; leaves the others', () => {
    const big = {
      ...out('Virtual-2'),
      current_mode: mode(5120, 2160),
      modes: [
        mode(5120, 2160),
        mode(1920, 1080, 60_000),
        mode(1920, 1080, 59_940),
        mode(1280, 800),
        mode(2560, 1440),
      ],
    };
    const small = {
      ...out('Virtual-1'),
      current_mode: mode(1280, 800),
      modes: [mode(1280, 800), mode(5120, 2160)],
    };
    expect(modeCommands([small, big])).toEqual(['output Virtual-2 mode 1920x1080@60.000Hz']);
  });

  it('keeps the screen’s shape and a refresh near 60 Hz; a portrait screen within the pixels stays as it is', () => {
    const uhd = {
      ...out('HDMI-A-1'),
      current_mode: mode(3840, 2160),
      modes: [mode(3840, 2160), mode(1920, 1200), mode(1920, 1080, 144_000), mode(1920, 1080)],
    };
    expect(modeCommands([uhd])).toEqual(['output HDMI-A-1 mode 1920x1080@60.000Hz']);
    const portrait = { ...out('DSI-1'), current_mode: mode(1080, 1920), modes: [mode(1080, 1920)] };
    expect(modeCommands([portrait])).toEqual([]);
  });

  it('says nothing for a screen with no mode within the bound, or a name it would not put in a command', () => {
    expect(
      modeCommands([{ ...out('DP-1'), current_mode: mode(3840, 2160), modes: [mode(3840, 2160)] }]),
    ).toEqual([]);
    expect(
      modeCommands([{ ...out('x; exec sh'), current_mode: mode(3840, 2160), modes: [mode(1920, 1080)] }]),
    ).toEqual([]);
    expect(modeCommands(undefined)).toEqual([]);
  });
});

describe('the kiosk’s touch input', () => {
  const dev = (type: string, identifier: string) => ({ type, identifier, name: identifier });
  it('maps pointers and the one touch screen to the cashier’s screen', () => {
    expect(
      inputCommands(
        [dev('keyboard', '1:1:AT_keyboard'), dev('touch', '1267:12345:ELAN_Touchscreen')],
        'eDP-1',
      ),
    ).toEqual([
      'input type:pointer map_to_output eDP-1',
      'input "1267:12345:ELAN_Touchscreen" map_to_output eDP-1',
    ]);
  });

  it('leaves two touch screens to the board (the second is the customer’s), and skips odd names', () => {
    expect(inputCommands([dev('touch', '1:2:A'), dev('touch', '3:4:B')], 'eDP-1')).toEqual([
      'input type:pointer map_to_output eDP-1',
    ]);
    expect(inputCommands([dev('touch', '1:2:x" map_to_output HDMI-A-1; exec sh "')], 'eDP-1')).toEqual([
      'input type:pointer map_to_output eDP-1',
    ]);
    expect(inputCommands([dev('touch', '1:2:A')], 'x; exec sh')).toEqual([]);
    expect(inputCommands(undefined, undefined)).toEqual([]);
  });
});
