// 代收代付: scan a bill's barcode, take the payment by the customer's payment code (the terminal's
// code-payment rule: shown as paid only after SUCCESS), print a slip.
import { connect } from '/sdk/posd-app.js';

const $ = (id) => document.getElementById(id);
const BILLERS = { ELEC: '电费', WATER: '水费', GAS: '燃气费', TEL: '话费' };

/** `BILL:{biller}:{account}:{amount in fen}`, as the utilities print it on the bill. */
function parseBill(code) {
  const m = /^BILL:([A-Z]+):([0-9]{4,20}):([1-9][0-9]{0,7})$/.exec(code);
  if (!m || !BILLERS[m[1]]) return undefined;
  return { biller: m[1], name: BILLERS[m[1]], account: m[2], amount: Number(m[3]) };
}

const yuan = (fen) => `￥${(fen / 100).toFixed(2)}`;
let bill;
let sale;
let busy = false;

function setState(state, text) {
  document.body.dataset.state = state;
  $('status').textContent = text;
}

function showBill(b) {
  bill = b;
  sale = undefined;
  $('bill').hidden = false;
  $('biller').textContent = b.name;
  $('account').textContent = b.account;
  $('amount').textContent = yuan(b.amount);
  $('again').hidden = true;
  setState('bill', '请扫顾客付款码');
}

async function pay(app, code) {
  busy = true;
  try {
    // One sale per bill; a second code after a failure is a new payment of the same sale.
    sale ??= await app.createSale(
      [{ name: `代收${bill.name} ${bill.account}`, qty: 1, unitPrice: bill.amount }],
      `bill-${bill.biller}-${bill.account}-${bill.amount}-${Date.now()}`,
    );
    const started = await app.pay(sale.saleId, { method: 'code', authCode: code });
    setState('pending', '等待顾客确认支付…');
    const outcome = await app.settled(started.paymentId);
    if (outcome.status !== 'succeeded') {
      setState('failed', '支付未成功，请换一个付款码');
      return;
    }
    setState('paid', `已收款 ${yuan(outcome.amount)}`);
    await app.print({
      lines: [
        { text: '代收代付 缴费凭条', align: 'center', bold: true, size: 'double' },
        { text: `项目: ${bill.name}` },
        { text: `户号: ${bill.account}` },
        { text: `金额: ${yuan(bill.amount)}`, bold: true },
        { text: `支付: ${outcome.channel}` },
        { text: `单号: ${sale.saleId}` },
        { text: new Date().toLocaleString('zh-CN', { hour12: false }) },
      ],
      qr: `BILLPAID:${sale.saleId}`,
    });
    $('again').hidden = false;
  } catch (err) {
    if (err.status !== 401) setState('error', `出错了：${err.code ?? err.message}`);
  } finally {
    busy = false;
  }
}

try {
  const app = await connect();
  app.onEnded = () => setState('ended', '应用已被移除或会话已过期');
  setState('ready', '请扫账单条码');
  app.on('scan', (e) => {
    if (busy || document.body.dataset.state === 'pending') return;
    if (e.data.kind === 'payment') {
      if (bill && document.body.dataset.state !== 'paid') void pay(app, e.data.code);
      return;
    }
    const b = parseBill(e.data.code);
    if (b) showBill(b);
    else setState(document.body.dataset.state, '不是账单条码');
  });
  $('again').addEventListener('click', () => {
    bill = undefined;
    sale = undefined;
    $('bill').hidden = true;
    $('again').hidden = true;
    setState('ready', '请扫账单条码');
  });
} catch (err) {
  setState('error', err.message);
}
