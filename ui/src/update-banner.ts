import { api } from './api.js';
import type { CashierContext } from './cashier-context.js';
import type { CashierState } from './cashier-state.js';
import { button, h } from './dom.js';
import type { I18n } from './i18n.js';

/** `GET /api/v1/update` and the `update.changed` event (docs/local-api.md). */
export interface UpdateView {
  state: string;
  version: string | null;
  progress: number | null;
  error: string | null;
  restartsAt?: string;
  waitingFor?: string[];
}

export interface UpdateActions {
  typedPin(pin: string): void;
  restartNow(): void;
}

/** The over-the-air update as the cashier sees it: ready, when the terminal restarts, restart now. */
export class UpdateFlow implements UpdateActions {
  constructor(private readonly c: CashierContext) {}

  async load(): Promise<void> {
    try {
      this.c.s.update = await api<UpdateView>('GET', '/api/v1/update');
    } catch {
      this.c.s.update = undefined; // an older daemon: no banner
    }
  }

  onChanged(d: Record<string, unknown>): void {
    if (typeof d.state !== 'string') return;
    this.c.s.update = d as unknown as UpdateView;
    this.c.render();
  }

  typedPin(pin: string): void {
    this.c.s.updatePin = pin;
  }

  restartNow(): void {
    const pin = this.c.s.updatePin;
    this.c.s.updatePin = '';
    void api('POST', '/api/v1/update/restart', { pin })
      .then(() => this.c.say(this.c.t.t('updateRestarting')))
      .catch((err: unknown) => this.c.fail(err))
      .finally(() => this.c.render());
  }
}

function clock(iso: string | undefined, lang: string): string {
  const at = iso ? new Date(iso) : new Date();
  const time = at.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit', hour12: false });
  return at.toDateString() === new Date().toDateString() ? time : `${at.toLocaleDateString(lang)} ${time}`;
}

/** Shown on every screen once an update is installed (and while the terminal restarts into it). */
export function updateBanner(s: CashierState, t: I18n, a: UpdateActions): HTMLElement | null {
  const u = s.update;
  if (!u) return null;
  if (u.state === 'rebooting') {
    return h(
      'div',
      { class: 'order-banner', 'data-testid': 'update-banner', role: 'status' },
      t.t('updateRestarting'),
    );
  }
  if (u.state !== 'waiting-to-reboot') return null;
  const due = new Date(u.restartsAt ?? 0).getTime() <= Date.now();
  const text = due
    ? t.t(u.waitingFor?.length ? 'updateReadyWaiting' : 'updateReadyNow', { v: u.version ?? '' })
    : t.t('updateReadyAt', { v: u.version ?? '', at: clock(u.restartsAt, t.lang) });
  const hadFocus = document.activeElement?.getAttribute('data-testid') === 'update-pin';
  const pin = h('input', {
    type: 'password',
    class: 'field',
    'data-testid': 'update-pin',
    placeholder: t.t('managerPin'),
    autocomplete: 'off',
    inputmode: 'numeric',
    maxlength: 32,
    value: s.updatePin,
    oninput: () => a.typedPin(pin.value),
  });
  pin.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') a.restartNow();
  });
  if (hadFocus) queueMicrotask(() => pin.focus());
  return h(
    'div',
    { class: 'order-banner', 'data-testid': 'update-banner', role: 'status', 'data-state': u.state },
    h('span', { 'data-testid': 'update-text' }, text),
    pin,
    button('chip primary', 'update-restart', () => a.restartNow(), t.t('restartNow')),
  );
}
