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
export interface PinScreen {
  keypad: boolean;
  signedIn: boolean;
  dots: number;
  error: boolean;
  box: { x: number; y: number; w: number; h: number };
}
export function pinScreen(
  png: { width: number; height: number; data: Uint8Array },
  box: { x: number; y: number; w: number; h: number },
): PinScreen;
export function pinLine(
  png: { width: number; height: number; data: Uint8Array },
  box: { x: number; y: number; w: number; h: number },
): { dots: number; error: boolean };
export function enterPin(
  io: { tap(key: string): Promise<void>; look(): Promise<PinScreen>; signedIn?(): Promise<boolean> },
  pin: string,
  opts?: { tries?: number; settleMs?: number; step?: number },
): Promise<{ keys: number; retaps: number; restarts: number; seen: 'screen' | 'console' }>;
export function customerFigures(png: { width: number; height: number; data: Uint8Array }): {
  customer: boolean;
  reasons: string[];
  figures: Record<string, number>;
};
