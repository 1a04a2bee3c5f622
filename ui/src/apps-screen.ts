/**
 * The cashier's apps screen (contract platform-v1 "Where an app runs"): lists installed store
 * apps, opens one in a sandboxed frame on its own origin, hands it its session by postMessage
 * (never in a URL), and closes it. While an app is open it takes the scans (body[data-app-open]).
 */
import { api } from './api.js';

interface LauncherApp {
  appId: string;
  name: string;
  version: string;
  scopes: string[];
  origin: string;
}

const zh = (document.documentElement.lang || 'zh-CN').startsWith('zh');
const T = {
  apps: zh ? '应用' : 'Apps',
  close: zh ? '关闭' : 'Close',
  none: zh ? '没有安装应用' : 'No apps installed',
  failed: zh ? '应用打不开，请重试' : 'The app could not be opened; try again',
};

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  style: Partial<CSSStyleDeclaration>,
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  Object.assign(e.style, style);
  if (text !== undefined) e.textContent = text;
  return e;
}

const BUTTON: Partial<CSSStyleDeclaration> = {
  font: 'inherit',
  fontSize: '18px',
  padding: '12px 18px',
  border: 'none',
  borderRadius: '10px',
  background: '#1f7a4d',
  color: '#fff',
  cursor: 'pointer',
};

class AppsScreen {
  private readonly launcher = el('button', {
    ...BUTTON,
    position: 'fixed',
    left: '12px',
    bottom: '12px',
    zIndex: '900',
    display: 'none',
  });
  private overlay: HTMLDivElement | undefined;
  private frame: { iframe: HTMLIFrameElement; app: LauncherApp; answered: boolean } | undefined;
  private readonly onMessage = (e: MessageEvent) => void this.answer(e);

  constructor() {
    this.launcher.textContent = T.apps;
    this.launcher.dataset.testid = 'apps-button';
    this.launcher.addEventListener('click', () => void this.openList());
    document.body.append(this.launcher);
    window.addEventListener('message', this.onMessage);
    new MutationObserver(() => void this.refresh()).observe(document.body, {
      attributes: true,
      attributeFilter: ['data-ready'],
    });
    // Only on the sell screen, where it covers nothing the cashier needs.
    new MutationObserver(() => this.place()).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ['data-screen'],
    });
    void this.refresh();
  }

  private hasApps = false;

  private place(): void {
    const screen = document.querySelector<HTMLElement>('.cashier')?.dataset.screen;
    const show = this.hasApps && document.body.dataset.ready === 'live' && screen === 'sell';
    const display = show ? 'block' : 'none';
    if (this.launcher.style.display !== display) this.launcher.style.display = display;
  }

  private async apps(): Promise<LauncherApp[]> {
    try {
      return (await api<{ apps: LauncherApp[] }>('GET', '/api/v1/launcher')).apps;
    } catch {
      return [];
    }
  }

  /** The button shows for a signed-in cashier when an app is installed. */
  private async refresh(): Promise<void> {
    this.hasApps = document.body.dataset.ready === 'live' && (await this.apps()).length > 0;
    this.place();
  }

  private async openList(): Promise<void> {
    this.closeAll();
    const overlay = el('div', {
      position: 'fixed',
      inset: '0',
      zIndex: '1000',
      background: '#f4f1ec',
      display: 'flex',
      flexDirection: 'column',
    });
    overlay.dataset.testid = 'apps-screen';
    const bar = el('div', { display: 'flex', gap: '12px', padding: '12px', alignItems: 'center' });
    const close = el('button', { ...BUTTON, background: '#777' }, T.close);
    close.dataset.testid = 'apps-close';
    close.addEventListener('click', () => this.closeAll());
    bar.append(close);
    const body = el('div', { flex: '1', display: 'flex', flexWrap: 'wrap', gap: '16px', padding: '16px' });
    const apps = await this.apps();
    if (apps.length === 0) body.append(el('p', {}, T.none));
    for (const app of apps) {
      const tile = el(
        'button',
        { ...BUTTON, minWidth: '180px', minHeight: '120px', fontSize: '22px' },
        app.name,
      );
      tile.dataset.testid = `app-${app.appId}`;
      tile.addEventListener('click', () => this.openApp(app, overlay, body));
      body.append(tile);
    }
    overlay.append(bar, body);
    document.body.append(overlay);
    this.overlay = overlay;
    document.body.dataset.appOpen = 'list';
  }

  private openApp(app: LauncherApp, overlay: HTMLDivElement, list: HTMLDivElement): void {
    list.style.display = 'none';
    const iframe = el('iframe', { flex: '1', border: 'none', background: '#fff', width: '100%' });
    // Its own origin, scripts and forms: no top navigation, no popups, no downloads.
    iframe.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms');
    iframe.setAttribute('referrerpolicy', 'no-referrer');
    iframe.setAttribute('allow', '');
    iframe.dataset.testid = 'app-frame';
    iframe.dataset.appId = app.appId;
    iframe.src = `${app.origin}/`;
    overlay.append(iframe);
    const frame = { iframe, app, answered: false };
    // A reloaded app asks again.
    iframe.addEventListener('load', () => {
      frame.answered = false;
    });
    this.frame = frame;
    document.body.dataset.appOpen = app.appId;
  }

  /** The app asks for its session; only its own frame, from its own origin, gets it. */
  private async answer(e: MessageEvent): Promise<void> {
    const f = this.frame;
    if (!f || e.source !== f.iframe.contentWindow || e.origin !== f.app.origin) return;
    if ((e.data as { type?: unknown } | null)?.type !== 'posd.ready' || f.answered) return;
    f.answered = true;
    try {
      const s = await api<{ token: string; expiresAt: string; scopes: string[] }>(
        'POST',
        `/api/v1/apps/${encodeURIComponent(f.app.appId)}/sessions`,
      );
      if (this.frame !== f) return; // closed meanwhile
      f.iframe.contentWindow?.postMessage(
        { type: 'posd.session', token: s.token, expiresAt: s.expiresAt, scopes: s.scopes },
        f.app.origin,
      );
    } catch {
      f.iframe.replaceWith(el('p', { padding: '24px' }, T.failed));
    }
  }

  private closeAll(): void {
    this.frame = undefined;
    this.overlay?.remove();
    this.overlay = undefined;
    delete document.body.dataset.appOpen;
  }
}

new AppsScreen();
