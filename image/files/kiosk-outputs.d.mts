// Types of image/files/kiosk-outputs.mjs for the tests.
export function chooseOutputs(outputs: unknown): { cashier?: string; customer?: string };
export function modeCommands(outputs: unknown): string[];
export function inputCommands(inputs: unknown, cashier: unknown): string[];
