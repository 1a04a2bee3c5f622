/**
 * What refunding `qty` more of a line gives back, as the daemon prices it (core/refund): its net
 * pro rata, and the last units take exactly what is left.
 */
export function refundAmount(
  line: { qty: number; net: number },
  done: { qty: number; amount: number },
  qty: number,
): number {
  if (qty <= 0) return 0;
  if (done.qty + qty >= line.qty) return line.net - done.amount;
  return Math.floor((line.net * (done.qty + qty)) / line.qty) - done.amount;
}
