import type { Actions } from './cashier-actions.js';
import type { CashierState } from './cashier-state.js';
import { h } from './dom.js';
import { donePane } from './done-view.js';
import type { I18n } from './i18n.js';
import { ordersPane } from './orders-view.js';
import { payPane } from './pay-view.js';
import { recentPane } from './recent-view.js';
import { refundPane } from './refund-view.js';
import { cartPane, entryPane } from './sell-view.js';
import { shiftPane } from './shift-view.js';
import { orderBanner, topBar } from './top-bar-view.js';

type Screen = CashierState['screen'];
type Pane = (s: CashierState, t: I18n, a: Actions) => HTMLElement;

/** Each screen but the sell screen, which shows the entry pane and the cart side by side. */
const PANES: Record<Exclude<Screen, 'sell'>, Pane> = {
  pay: payPane,
  done: donePane,
  recent: recentPane,
  refund: refundPane,
  shift: shiftPane,
  orders: ordersPane,
};

/** The signed-in cashier screen: the top bar, the order banner, the current screen and the toast. */
export function mainView(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const content = s.screen === 'sell' ? [entryPane(s, t, a), cartPane(s, t, a)] : [PANES[s.screen](s, t, a)];
  return h(
    'div',
    { class: 'cashier', 'data-screen': s.screen },
    topBar(s, t, a),
    orderBanner(s, t, a),
    h('main', {}, ...content),
    s.message
      ? h(
          'div',
          { class: 'toast', 'data-testid': 'message', onclick: () => a.app.dismissMessage() },
          s.message,
        )
      : null,
  );
}
