/**
 * The terminal's screens are a kiosk: a right-click or a long press opens no browser menu (Chromium's
 * offers Back, Reload, Save as, Print, Inspect). Chromium's managed policy cannot turn it off.
 */
export function blockContextMenu(doc: Document = document): void {
  doc.addEventListener('contextmenu', (ev) => ev.preventDefault());
}
