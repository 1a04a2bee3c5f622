/** sysexits(3) values, as systemd and technicians read them. */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 64,
  SOFTWARE: 70,
  CANT_CREATE: 73,
  TEMP_FAIL: 75,
  CONFIG: 78,
  UNAVAILABLE: 69,
} as const;
