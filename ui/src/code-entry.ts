import { api } from './api.js';
import type { CartEditor } from './cart-editor.js';
import type { CodeActions } from './cashier-actions.js';
import type { CashierContext } from './cashier-context.js';
import { formatMoney } from './money.js';

export type CodeKind = 'coupon' | 'member' | 'phone';

/** What each kind of typed code may look like: letters and digits, a phone 11 digits from 1. */
const SHAPES: Record<CodeKind, RegExp> = {
  coupon: /^[A-Za-z0-9-]{4,64}$/,
  member: /^[A-Za-z0-9-]{4,64}$/,
  phone: /^1\d{10}$/,
};

/**
 * Codes typed by hand beside the scanner (the 会员/券 tab): a coupon, a member code, or a member's
 * mobile number. Each goes where the scanner's would; a malformed one is answered, never ignored.
 */
export class CodeEntry implements CodeActions {
  constructor(
    private readonly c: CashierContext,
    private readonly cart: CartEditor,
  ) {}

  setKind(kind: CodeKind): void {
    this.c.s.codeKind = kind;
    this.c.render();
  }

  /** The field's text as typed (the physical keyboard, or a scanner that types). */
  typed(text: string): void {
    this.c.s.codeDraft = text.slice(0, 64);
  }

  /** A key of the on-screen keypad. */
  key(key: string): void {
    const s = this.c.s;
    if (key === 'C') s.codeDraft = '';
    else if (key === '⌫') s.codeDraft = s.codeDraft.slice(0, -1);
    else if (/^\d$/.test(key) && s.codeDraft.length < 64) s.codeDraft += key;
    this.c.render();
  }

  async submit(): Promise<void> {
    const s = this.c.s;
    const code = s.codeDraft.trim();
    const t = this.c.t;
    if (!SHAPES[s.codeKind].test(code)) {
      this.c.say(s.codeKind === 'phone' ? t.t('phoneInvalid') : t.t('codeInvalid'));
      return;
    }
    s.codeDraft = '';
    if (s.codeKind === 'coupon') await this.cart.onCouponScanned(code);
    else if (s.codeKind === 'member') await this.cart.onMemberScanned(code);
    else await this.byPhone(code);
  }

  /** A member found by phone is on the sale for points; paying from the stored value needs the code. */
  private async byPhone(phone: string): Promise<void> {
    try {
      const found = await api<{ memberId: string; name?: string; balance?: number }>(
        'POST',
        '/api/v1/members/lookup-by-phone',
        { phone },
      );
      this.c.s.member = { memberId: found.memberId, name: found.name ?? phone.slice(-4), code: '' };
      if (found.balance !== undefined) this.c.s.member.balance = found.balance;
      this.c.say(this.c.t.t('memberFound', { n: this.c.s.member.name, b: formatMoney(found.balance ?? 0) }));
    } catch (err) {
      this.c.fail(err, this.notFound(err));
    }
  }

  private notFound(err: unknown): string | undefined {
    return (err as { code?: string }).code === 'NOT_FOUND' ? this.c.t.t('memberNotFound') : undefined;
  }
}
