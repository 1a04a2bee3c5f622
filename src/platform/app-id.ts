/** A store app's id (contract platform-v1 "The package": reverse-DNS, lower case). */
export const APP_ID_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/;

/** An app's Idempotency-Key, namespaced so it never meets the cashier's or another app's. */
export function appIdempotencyKey(appId: string, key: string): string {
  return `app:${appId}:${key}`;
}
