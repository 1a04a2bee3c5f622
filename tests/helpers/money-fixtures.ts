/** Payment timings for tests, pushed as the business config: the rule is the same, only faster. */
export const FAST_PAYMENTS = {
  requestTimeoutMs: 400,
  queryDelayMs: 150,
  queryIntervalMs: 150,
  resolveWithinMs: 1_500,
  qrExpirySeconds: 30,
};

/** An online order as a delivery platform sends it (mqtt-v1 `P/down/order`). */
export function deliveryOrder(id: string) {
  return {
    id,
    source: 'meituan',
    placedAt: new Date().toISOString(),
    lines: [
      { name: '宫保鸡丁', qty: 1, unitPrice: 3_200 },
      { name: '米饭', qty: 2, unitPrice: 200 },
    ],
    total: 3_600,
    currency: 'CNY',
    note: '少辣',
    pickup: { code: 'A17' },
  };
}

/** An online order to be paid at the counter (网络订单线下支付), found by its pickup code or QR. */
export function atCounterOrder(id: string, pickupCode: string) {
  const { pickup: _pickup, note: _note, ...order } = deliveryOrder(id);
  return { ...order, source: 'mini-program', payment: 'at-counter' as const, pickupCode };
}
