import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/bus.js';
import { DEFAULT_BUSINESS } from '../../../src/config/business.js';
import { openDatabase } from '../../../src/offline/db.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { ConfigService } from '../../../src/services/config-service.js';
import { tempDir } from '../../helpers/daemon.js';
import { silentLogger } from '../../helpers/test-log.js';

const vector = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../../../docs/contract/vectors/config-signature.json'), 'utf8'),
) as { valid: { version: number; issuedAt: string; doc: unknown; sig: string } };

function setup(dir = tempDir()) {
  const db = openDatabase({ file: join(dir, 'posd.db'), log: silentLogger() });
  const ledger = new Ledger({ db, dir });
  const bus = new EventBus();
  return { db, ledger, bus, config: new ConfigService(db, ledger, bus), dir };
}

describe('business config', () => {
  it('starts from defaults and applies the contract vector doc, keeping defaults of absent sections', () => {
    const { config, ledger } = setup();
    expect(config.version).toBe(0);
    expect(config.config.offline.tenders).toEqual(['cash']);
    expect(config.apply(vector.valid)).toEqual({ outcome: 'applied', version: 7 });
    expect(config.config.merchant.name).toBe('测试商户');
    expect(config.config.offline.maxOfflineAmountPerSale).toBe(50_000);
    expect(config.config.offline.maxOfflineTotal).toBe(DEFAULT_BUSINESS.offline.maxOfflineTotal);
    expect(config.config.payments).toEqual(DEFAULT_BUSINESS.payments);
    expect(ledger.recordsAfter(0, 10)).toMatchObject([{ type: 'config.applied', body: { version: 7 } }]);
  });

  it('refuses control characters in any text of the doc; newlines only in address, header and footer', () => {
    const { config } = setup();
    const envelope = (version: number, doc: unknown) => ({
      version,
      issuedAt: '2026-12-05T00:00:00Z',
      doc,
      sig: 'x',
    });
    for (const doc of [
      { merchant: { name: 'Shop', receiptFooter: 'Thanks\u001bp\u0000\u0019\u00fa' } },
      { merchant: { name: 'Shop\n2' } },
      { merchant: { name: 'Shop', receiptHeader: 'Hi\u001dVB\u0003' } },
      { catalog: { items: [{ sku: 'T1', name: 'Tea\u202e', price: 100 }] } },
      {
        coupons: {
          issueRules: [{ ruleId: 'r\u0007', kind: 'amount', value: 100, validDays: 1, afterSpend: 1 }],
        },
      },
    ]) {
      const outcome = config.apply(envelope(2, doc));
      expect(outcome.outcome, JSON.stringify(doc)).toBe('rejected');
      expect(outcome.outcome === 'rejected' && outcome.problems.join()).toMatch(/control character U\+/);
    }
    expect(config.version).toBe(0);
    const ok = config.apply(envelope(3, { merchant: { name: 'Shop', receiptFooter: '谢谢惠顾\n欢迎再来' } }));
    expect(ok.outcome).toBe('applied');
  });

  it('ignores versions not newer than the applied one', () => {
    const { config, ledger } = setup();
    config.apply(vector.valid);
    expect(config.apply({ ...vector.valid, doc: { merchant: { name: 'older' } } }).outcome).toBe('ignored');
    expect(config.apply({ ...vector.valid, version: 3 }).outcome).toBe('ignored');
    expect(config.config.merchant.name).toBe('测试商户');
    expect(ledger.lastSeq()).toBe(1);
  });

  it('changes nothing when one field is invalid, and records the rejection once per envelope', () => {
    const { config, ledger } = setup();
    config.apply(vector.valid);
    const bad = {
      version: 8,
      issuedAt: '2026-11-23T00:00:00.000Z',
      doc: { merchant: { name: 'New name' }, offline: { maxOfflineAmountPerSale: -1 } },
      sig: 'x',
    };
    const outcome = config.apply(bad);
    expect(outcome.outcome).toBe('rejected');
    expect(outcome.outcome === 'rejected' && outcome.problems[0]).toMatch(
      /^offline\.maxOfflineAmountPerSale: /,
    );
    expect(config.version).toBe(7);
    expect(config.config.merchant.name).toBe('测试商户');
    config.apply(bad);
    config.apply(bad);
    const rejected = ledger.recordsAfter(0, 10).filter((r) => r.type === 'config.rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.body).toMatchObject({ version: 8 });
    config.apply({ ...bad, doc: { unknownSection: true } });
    expect(ledger.recordsAfter(0, 10).filter((r) => r.type === 'config.rejected')).toHaveLength(2);
  });

  it('keeps the applied config across a restart', () => {
    const first = setup();
    first.config.apply(vector.valid);
    first.db.close();
    const again = setup(first.dir);
    expect(again.config.version).toBe(7);
    expect(again.config.config.merchant.receiptFooter).toBe('谢谢惠顾');
  });
});
