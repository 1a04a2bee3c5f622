import { describe, expect, it } from 'vitest';
import { deviceLedger } from '../../helpers/cloud-fixture.js';
import { type Api, type Body, cloudTerminals, openSale } from '../../helpers/cloud-terminals.js';
import { spawnPosd, withTimeout } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/wait.js';

/** Issue 12 "Money under faults", payment and refund cases: the real daemon, mosquitto, the reference cloud. */

const fx = cloudTerminals();
const terminal = (device: string) => fx.terminal(device);

async function sale(api: Api, saleId: string) {
  return (
    await api.call<Body & { status: string; payments: Array<{ status: string; paymentId: string }> }>(
      'GET',
      `/api/v1/sales/${saleId}`,
    )
  ).body;
}

/** A QR shown to the customer: its payment id once the code URL is there. */
async function shownQr(api: Api, saleId: string): Promise<string> {
  const qr = await api.call<Body>('POST', `/api/v1/sales/${saleId}/payments`, {
    method: 'qr',
    channel: 'wechat',
  });
  const paymentId = String(qr.body.paymentId);
  await waitFor(
    async () =>
      (await api.call<{ doc: { codeUrl?: string } }>('GET', `/api/v1/payments/${paymentId}`)).body.doc.codeUrl
        ? true
        : undefined,
    'QR shown',
  );
  return paymentId;
}

type Health = { money?: { unresolvedPayments: number; reversalsOwed: number; reversalsOwedAmount: number } };

async function health(port: number): Promise<Health> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return (await res.json()) as Health;
}

describe('money under faults, against the reference cloud', () => {
  it('(11) payment.create answered SYSTEMERROR after the charge: queried, and the sale is paid once', async () => {
    const t = await terminal('F11');
    const saleId = await openSale(t.api, 2_500);
    fx.cloud.acquirer.errorReplies.set('payment.create', ['SYSTEMERROR']);
    const pay = await t.api.call<Body>('POST', `/api/v1/sales/${saleId}/payments`, {
      method: 'code',
      authCode: '134567890123456780',
    });
    expect(pay.status).toBe(202);
    await waitFor(
      async () => ((await sale(t.api, saleId)).status === 'completed' ? true : undefined),
      'paid',
    );
    expect(fx.cloud.acquirer.netCaptured({ tenant: 't1', device: 'F11' })).toBe(2_500);
  });

  it('(2) a card + cash refund is recorded at once; the acquirer is not asked', async () => {
    const t = await terminal('F2');
    const saleId = await openSale(t.api, 3_000);
    await t.api.call('POST', `/api/v1/sales/${saleId}/payments`, { method: 'card', amount: 2_000 });
    await t.api.call('POST', `/api/v1/sales/${saleId}/payments`, { method: 'cash', amount: 1_000 });
    const refund = await t.api.call<Body>('POST', `/api/v1/sales/${saleId}/refunds`, {
      lines: [{ lineNo: 1, qty: 1 }],
    });
    expect(refund.status).toBe(201);
    expect(refund.body.status).toBe('completed');
    expect(fx.cloud.acquirer.refunds({ tenant: 't1', device: 'F2' })).toHaveLength(0);
    await waitFor(
      () =>
        fx.cloud.store.records('t1', 'F2').some((r) => r.type === 'refund.completed') ? true : undefined,
      'refund synced',
    );
  });

  it('(13) cancelling a QR whose close fails answers 202 closing at once; the close goes on', async () => {
    const t = await terminal('F13');
    const saleId = await openSale(t.api, 990);
    const paymentId = await shownQr(t.api, saleId);
    fx.cloud.acquirer.errorReplies.set('payment.close', Array(6).fill('SYSTEMERROR'));
    const cancelled = await t.api.call<Body>('POST', `/api/v1/payments/${paymentId}/cancel`);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body.status).toBe('closing');
    // The sale stays blocked while the QR is closing.
    const cash = await t.api.call<Body>('POST', `/api/v1/sales/${saleId}/payments`, {
      method: 'cash',
      amount: 1_000,
    });
    expect(cash.status).toBe(409);
    expect(cash.body.error?.code).toBe('PAYMENT_UNRESOLVED');
    await waitFor(
      async () =>
        (await t.api.call<Body>('GET', `/api/v1/payments/${paymentId}`)).body.status === 'closed'
          ? true
          : undefined,
      'closed in the background',
      30_000,
    );
    expect(fx.cloud.acquirer.payment({ tenant: 't1', device: 'F13' }, paymentId)?.status).toBe('CLOSED');
    const paid = await t.api.call<Body>('POST', `/api/v1/sales/${saleId}/payments`, {
      method: 'cash',
      amount: 1_000,
    });
    expect(paid.status).toBe(201);
  });

  it('(4) a QR paid after close is reversed until answered, shown to the technician until done', async () => {
    const t = await terminal('F4');
    const saleId = await openSale(t.api, 990);
    const paymentId = await shownQr(t.api, saleId);
    expect((await t.api.call<Body>('POST', `/api/v1/payments/${paymentId}/cancel`)).body.status).toBe(
      'closed',
    );
    expect(
      (await t.api.call('POST', `/api/v1/sales/${saleId}/payments`, { method: 'cash', amount: 1_000 }))
        .status,
    ).toBe(201);
    expect(fx.cloud.acquirer.customerPaysQr({ tenant: 't1', device: 'F4' }, paymentId)).toBe(true);
    // The acquirer answers the first reversal attempts with errors (backoff 150, 300, 600 … ms).
    fx.cloud.acquirer.errorReplies.set('refund.create', Array(7).fill('SYSTEMERROR'));
    await fx.cloud.notifyPayment('t1', 'F4', paymentId, 'SUCCESS');
    const shown = await waitFor(async () => {
      const h = await health(t.cfg.port);
      return h.money?.reversalsOwed === 1 ? h : undefined;
    }, 'reversal shown on /healthz');
    expect(shown.money).toMatchObject({ reversalsOwed: 1, reversalsOwedAmount: 990 });
    // The diagnostics command (signed, from the cloud) names it, with its attempts and last error.
    const diag = await waitFor(async () => {
      const r = (await fx.cloud.pushCommand('t1', 'F4', 'diagnostics', {})) as {
        result?: { money?: { pendingReversals: Array<{ paymentId: string; attempts: number }> } };
      };
      return r.result?.money?.pendingReversals.some((x) => x.paymentId === paymentId && x.attempts > 0)
        ? r
        : undefined;
    }, 'reversal in diagnostics');
    expect(diag.result?.money?.pendingReversals).toHaveLength(1);
    const doctor = spawnPosd(['doctor', '--config', t.cfg.file]);
    fx.daemons.push(doctor);
    expect((await withTimeout(doctor.exited, 15_000, 'doctor')).code).toBe(1);
    expect(doctor.stdout()).toMatch(/FAIL\s+money\s+unresolved payments 0, REVERSALS NOT DONE 1/);

    const ledger = await waitFor(
      async () => {
        const l = await deviceLedger(t.api);
        return l.some((r) => r.type === 'payment.reversed') ? l : undefined;
      },
      'reversal recorded',
      40_000,
    );
    expect(ledger.filter((r) => r.type === 'payment.reversed')).toMatchObject([
      { body: { paymentId, wasCaptured: true, reason: 'PAID_AFTER_CLOSE' } },
    ]);
    expect(ledger.filter((r) => r.type === 'refund.completed')).toHaveLength(0);
    expect(fx.cloud.acquirer.netCaptured({ tenant: 't1', device: 'F4' })).toBe(0);
    expect((await health(t.cfg.port)).money).toMatchObject({ reversalsOwed: 0, reversalsOwedAmount: 0 });
  });
});
