import type { Actions } from './cashier-actions.js';
import type { CashierState } from './cashier-state.js';
import { button, h } from './dom.js';
import { donePane } from './done-view.js';
import type { I18n } from './i18n.js';
import { ordersPane } from './orders-view.js';
import { payPane } from './pay-view.js';
import { recentPane } from './recent-view.js';
import { refundPane } from './refund-view.js';
import { cartPane, entryPane } from './sell-view.js';
import { shiftPane } from './shift-view.js';
import { orderBanner, topBar } from './top-bar-view.js';
import { updateBanner } from './update-banner.js';

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

/** A question before money moves, or a result to act on: over the screen until answered. */
function dialogView(s: CashierState, a: Actions): HTMLElement | null {
  const d = s.dialog;
  if (!d) return null;
  return h(
    'div',
    { class: 'dialog-backdrop' },
    h(
      'div',
      { class: 'dialog', role: 'alertdialog', 'data-testid': d.testId },
      h('h2', {}, d.title),
      ...d.lines.map((l) => h('p', {}, l)),
      d.emphasis ? h('p', { class: 'emphasis', 'data-testid': `${d.testId}-emphasis` }, d.emphasis) : null,
      h(
        'div',
        { class: 'quick' },
        d.no ? button('big', `${d.testId}-no`, () => a.app.answerDialog(false), d.no) : null,
        button(
          `big ${d.danger ? 'danger' : 'primary'}`,
          `${d.testId}-yes`,
          () => a.app.answerDialog(true),
          d.yes,
        ),
      ),
    ),
  );
}

/** The signed-in cashier screen: the top bar, the order banner, the current screen and the toast. */
export function mainView(s: CashierState, t: I18n, a: Actions): HTMLElement {
  const content = s.screen === 'sell' ? [entryPane(s, t, a), cartPane(s, t, a)] : [PANES[s.screen](s, t, a)];
  return h(
    'div',
    { class: 'cashier', 'data-screen': s.screen },
    topBar(s, t, a),
    orderBanner(s, t, a),
    updateBanner(s, t, a.update),
    // In the flow under the bar, not floating: it never covers a button (取消交易, 收款).
    s.message
      ? h(
          'div',
          { class: 'toast', role: 'alert', 'data-testid': 'message', onclick: () => a.app.dismissMessage() },
          h('span', { 'data-testid': 'message-text' }, s.message),
          s.messageCode ? h('small', { class: 'code', 'data-testid': 'message-code' }, s.messageCode) : null,
        )
      : null,
    h('main', {}, ...content),
    dialogView(s, a),
  );
}
