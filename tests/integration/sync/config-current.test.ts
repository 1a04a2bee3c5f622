import { describe, expect, it } from 'vitest';
import { topicsFor } from '../../../src/sync/topics.js';
import { deviceLedger } from '../../helpers/cloud-fixture.js';
import { cloudTerminals } from '../../helpers/cloud-terminals.js';
import { waitFor } from '../../helpers/wait.js';

// mqtt-v1 `config.current`: a clustered broker may keep retained messages on one node only, so a
// device must not depend on the retained config reaching it.
const fx = cloudTerminals();

describe('config.current', () => {
  it('a device whose retained config never arrives still gets it, through the same checks', async () => {
    // The cloud holds version 5 for CC1, but no retained message is on this broker (another node's).
    fx.cloud.signConfig('t1', 'CC1', 5, { merchant: { name: '只在云端' } });
    await fx.cloud.publishRaw(topicsFor('t1', 'CC1').downConfig, '', true);
    const { api } = await fx.terminal('CC1', { online: false });
    const applied = await waitFor(async () => {
      const r = (await deviceLedger(api)).filter((x) => x.type === 'config.applied');
      return r.length > 0 ? r : undefined;
    }, 'config.applied from config.current');
    expect(applied.map((r) => r.body.version)).toEqual([5]);
  });

  it('answers the newest envelope only to a device that has an older one', () => {
    const cloud = fx.cloud;
    const newest = cloud.signConfig('t1', 'CC2', 7, { locale: 'zh-CN' });
    cloud.signConfig('t1', 'CC2', 6, { locale: 'en' }); // older: not the newest
    const ask = (haveVersion: number) =>
      cloud.handleRequest('t1', 'CC2', { reqId: 'r', op: 'config.current', args: { haveVersion } });
    expect(ask(0)).toMatchObject({ ok: true, result: { envelope: newest } });
    expect(ask(7)).toMatchObject({ ok: true, result: { envelope: null } });
  });
});
