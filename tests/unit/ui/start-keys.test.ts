import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../ui/src/api.js';
import { StartKeys } from '../../../ui/src/start-keys.js';

const network = new ApiError(0, 'NETWORK', 'Failed to fetch');
const unresolved = new ApiError(
  409,
  'PAYMENT_UNRESOLVED',
  'another payment of this sale is still unresolved',
);
const refused = new ApiError(409, 'SALE_NOT_OPEN', 'nothing is due');
const A = JSON.stringify(['s1', 'code', { authCode: '134567890123456785' }]);
const QR = JSON.stringify(['s1', 'qr', { channel: 'wechat' }]);

describe('the key of a payment start', () => {
  it('a start that got no answer is sent again under its key; another start gets its own', () => {
    const keys = new StartKeys();
    const first = keys.keyFor(A);
    keys.failed(A, first, network);
    expect(keys.keyFor(A)).toBe(first);
    expect(keys.keyFor(QR)).not.toBe(first);
    expect(keys.keyFor(JSON.stringify(['s2', 'code', { authCode: '134567890123456785' }]))).not.toBe(first);
  });

  it('a daemon that failed after it may have committed (5xx) counts as no answer', () => {
    const keys = new StartKeys();
    const first = keys.keyFor(A);
    keys.failed(A, first, new ApiError(503, 'STORAGE_FAILED', 'could not be flushed'));
    expect(keys.keyFor(A)).toBe(first);
  });

  it('another start refused because one is under way keeps the unanswered one’s key', () => {
    const keys = new StartKeys();
    const first = keys.keyFor(A);
    keys.failed(A, first, network);
    keys.failed(QR, keys.keyFor(QR), unresolved);
    expect(keys.keyFor(A)).toBe(first);
  });

  it('forgotten once answered, refused for good, or once a payment of the sale has ended', () => {
    for (const end of [
      (k: StartKeys) => k.forget(),
      (k: StartKeys, key: string) => k.failed(A, key, refused),
    ]) {
      const keys = new StartKeys();
      const first = keys.keyFor(A);
      keys.failed(A, first, network);
      end(keys, first);
      expect(keys.keyFor(A)).not.toBe(first);
    }
  });

  it('a refusal of another start leaves the unanswered one’s key', () => {
    const keys = new StartKeys();
    const first = keys.keyFor(A);
    keys.failed(A, first, network);
    keys.failed(QR, keys.keyFor(QR), new ApiError(422, 'TENDER_NOT_SUPPORTED', 'off'));
    expect(keys.keyFor(A)).toBe(first);
  });
});
