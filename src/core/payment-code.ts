/** Which wallet a customer's payment code belongs to (WeChat/Alipay/UnionPay code rules). */
export type PaymentChannel = 'wechat' | 'alipay' | 'unionpay';

export function channelOfAuthCode(code: string): PaymentChannel | undefined {
  if (!/^\d+$/.test(code)) return undefined;
  const p2 = Number(code.slice(0, 2));
  if (code.length === 18 && p2 >= 10 && p2 <= 15) return 'wechat';
  if (code.length >= 16 && code.length <= 24 && p2 >= 25 && p2 <= 30) return 'alipay';
  if (code.length === 19 && code.startsWith('62')) return 'unionpay';
  return undefined;
}
