import type { DisplayScreen } from '../../core/display-screen.js';
import { formatAmount } from '../../core/money.js';
import { PosError } from '../../errors.js';
import { center, fitColumns, spread, toDisplayAscii } from './display-text.js';

export type { DisplayScreen };

declare module '../../bus.js' {
  interface PosEvents {
    /** Show a screen on the customer display (VFD and web second screen). */
    'display.show': DisplayScreen;
  }
}

export type DisplayLines = [string, string];

function amount(fen: number, what: string): string {
  if (!Number.isSafeInteger(fen))
    throw new PosError('AMOUNT_INVALID', `${what} must be integer fen`, { what });
  return formatAmount(fen);
}

/** The two 20-column ASCII lines of a screen. */
export function renderScreen(s: DisplayScreen): DisplayLines {
  switch (s.screen) {
    case 'idle':
      return [center(toDisplayAscii(s.text ?? 'WELCOME')), center(toDisplayAscii(s.subtext ?? ''))];
    case 'item': {
      const qty = s.qty ?? 1;
      const line2 =
        qty === 1
          ? spread('', amount(s.price, 'price'))
          : spread(`${qty} x ${amount(s.price, 'price')}`, amount(s.total ?? s.price * qty, 'total'));
      return [fitColumns(toDisplayAscii(s.name)), line2];
    }
    case 'total':
      return [
        spread('TOTAL', amount(s.total, 'total')),
        s.items === undefined ? fitColumns('') : fitColumns(`${s.items} ITEM${s.items === 1 ? '' : 'S'}`),
      ];
    case 'paid':
      return [spread('TOTAL', amount(s.total, 'total')), spread('PAID', amount(s.paid, 'paid'))];
    case 'change':
      return [spread('PAID', amount(s.paid, 'paid')), spread('CHANGE', amount(s.change, 'change'))];
    case 'text':
      return [fitColumns(toDisplayAscii(s.lines[0])), fitColumns(toDisplayAscii(s.lines[1]))];
  }
}
