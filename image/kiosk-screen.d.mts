// Types of image/kiosk-screen.mjs for the tests.
export interface KeypadCheck {
  keypad: boolean;
  reasons: string[];
  figures: Record<string, unknown>;
}
export function keypadFigures(png: { width: number; height: number; data: Uint8Array }): KeypadCheck;
export function checkPng(file: string): KeypadCheck;
export function keyCentres(box: {
  x: number;
  y: number;
  w: number;
  h: number;
}): Record<string, { x: number; y: number }>;
