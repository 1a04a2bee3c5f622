import { fsync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/offline/db.js';
import { GroupCommit } from '../../../src/offline/group-commit.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { tempDir } from '../../helpers/daemon.js';
import { silentLogger } from '../../helpers/test-log.js';
import { waitFor } from '../../helpers/wait.js';

/** A ledger under a group commit whose fsyncs the test releases one by one. */
function heldLedger() {
  const dir = tempDir();
  const file = join(dir, 'posd.db');
  const db = openDatabase({ file, log: silentLogger(), synchronous: 'NORMAL' });
  const held: Array<() => void> = [];
  const groupCommit = new GroupCommit({
    db,
    file,
    log: silentLogger(),
    fsync: (fd, done) => held.push(() => fsync(fd, done)),
  });
  const ledger = new Ledger({ db, dir, groupCommit });
  const settled = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    void p.then(() => settled.add(p));
    return p;
  };
  /** Releases the oldest held fsync and waits for what it resolves. */
  const release = async () => {
    await waitFor(() => (held.length > 0 ? true : undefined), 'an fsync');
    held.shift()!();
  };
  return { db, ledger, groupCommit, held, release, track, settled };
}

const sale = (ledger: Ledger, n: number) => ledger.transact(() => ledger.append('sale.completed', { n }));

describe('group commit', () => {
  it('sales that arrive together share one fsync, and none is durable before it completes', async () => {
    const t = heldLedger();
    await t.release(); // the first flush after opening (a killed process's unflushed WAL)
    await t.ledger.durable();
    const fsyncsBefore = t.groupCommit.flushes;
    const waits = [1, 2, 3, 4, 5].map((n) => {
      sale(t.ledger, n);
      return t.track(t.ledger.durable());
    });
    await waitFor(() => (t.held.length > 0 ? true : undefined), 'the flush to start');
    await new Promise((r) => setImmediate(r));
    expect(t.held).toHaveLength(1);
    expect(waits.filter((p) => t.settled.has(p))).toHaveLength(0);
    await t.release();
    await Promise.all(waits);
    expect(t.groupCommit.flushes - fsyncsBefore).toBe(1);
  });

  it('a commit made while an fsync runs waits for the next one', async () => {
    const t = heldLedger();
    await t.release();
    await t.ledger.durable();
    sale(t.ledger, 1);
    const first = t.track(t.ledger.durable());
    await waitFor(() => (t.held.length === 1 ? true : undefined), 'the first flush to start');
    sale(t.ledger, 2); // written while the first fsync is under way: not covered by it
    const second = t.track(t.ledger.durable());
    await t.release();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(t.settled.has(second)).toBe(false);
    await t.release();
    await second;
  });

  it('the uplink hears of records and reads them only once a flush has them on disk', async () => {
    const t = heldLedger();
    await t.release();
    await t.ledger.durable();
    const heard: number[] = [];
    t.ledger.onAppend((last) => heard.push(last));
    sale(t.ledger, 1);
    sale(t.ledger, 2);
    expect(t.ledger.lastSeq()).toBe(2);
    expect(t.ledger.recordsJsonAfter(0, 10)).toEqual([]);
    expect(heard).toEqual([]);
    const flushed = t.ledger.durable();
    await t.release();
    await flushed;
    expect(heard).toEqual([2]);
    expect(t.ledger.recordsJsonAfter(0, 10).map((r) => r.seq)).toEqual([1, 2]);
  });

  it('what only the screens wait for rides with the next flush a reply starts, or its own after the delay', async () => {
    const t = heldLedger();
    await t.release();
    await t.ledger.durable();
    // A receipt marked printed: its event waits, but starts no fsync of its own within the minute.
    t.ledger.transact(() => t.ledger.append('cmd.executed', { n: 1 }));
    const printedEvent = t.track(t.ledger.durableSoon(60_000));
    await new Promise((r) => setTimeout(r, 30));
    expect(t.held).toHaveLength(0);
    expect(t.settled.has(printedEvent)).toBe(false);
    // The next sale's reply starts one flush: it covers both.
    sale(t.ledger, 2);
    const reply = t.track(t.ledger.durable());
    await t.release();
    await Promise.all([reply, printedEvent]);
    expect(t.held).toHaveLength(0);

    // Written while a flush runs: a soon-waiter does not start the next one when it ends…
    sale(t.ledger, 3);
    const running = t.track(t.ledger.durable());
    await waitFor(() => (t.held.length === 1 ? true : undefined), 'the flush to start');
    t.ledger.transact(() => t.ledger.append('cmd.executed', { n: 4 }));
    const late = t.track(t.ledger.durableSoon(50));
    await t.release();
    await running;
    await new Promise((r) => setImmediate(r));
    expect(t.held).toHaveLength(0);
    expect(t.settled.has(late)).toBe(false);
    // …its own delay does, when no reply came.
    await t.release();
    await late;
  });

  it('closing flushes what an event waits for, even when it came during the last flush', async () => {
    const t = heldLedger();
    await t.release();
    await t.ledger.durable();
    sale(t.ledger, 1);
    const reply = t.ledger.durable();
    await waitFor(() => (t.held.length === 1 ? true : undefined), 'the flush to start');
    const closed = t.groupCommit.close();
    t.ledger.transact(() => t.ledger.append('cmd.executed', { n: 2 })); // settled while closing
    const event = t.track(t.ledger.durableSoon(50));
    await t.release();
    await reply;
    await t.release(); // close() flushes once more for it, not after the database is gone
    await Promise.all([closed, event]);
    expect(t.held).toHaveLength(0);
    t.db.close();
  });

  it('a commit nobody waits for (a receipt marked printed, an ack) is flushed later by itself', async () => {
    const dir = tempDir();
    const file = join(dir, 'posd.db');
    const db = openDatabase({ file, log: silentLogger(), synchronous: 'NORMAL' });
    const groupCommit = new GroupCommit({ db, file, log: silentLogger(), lazyMs: 20 });
    const ledger = new Ledger({ db, dir, groupCommit });
    await ledger.durable();
    const before = groupCommit.flushes;
    ledger.transact(() => ledger.append('cmd.executed', {}));
    await waitFor(() => (groupCommit.flushes > before ? true : undefined), 'the lazy flush');
    await groupCommit.close();
    db.close();
  });
});

describe('group commit after a failed fsync', () => {
  it('a failed flush is not forgotten: later flushes never vouch for what it covered', async () => {
    const dir = tempDir();
    const file = join(dir, 'posd.db');
    const db = openDatabase({ file, log: silentLogger(), synchronous: 'NORMAL' });
    let failNext = false;
    const groupCommit = new GroupCommit({
      db,
      file,
      log: silentLogger(),
      // Linux reports a lost write-back once: the next fsync of the same file succeeds.
      fsync: (fd, done) => {
        if (failNext) {
          failNext = false;
          done(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
        } else fsync(fd, done);
      },
    });
    const ledger = new Ledger({ db, dir, groupCommit });
    await ledger.durable();
    const heard: number[] = [];
    ledger.onAppend((last) => heard.push(last));
    failNext = true;
    sale(ledger, 1);
    await expect(ledger.durable()).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    sale(ledger, 2);
    // Sale 1's pages may be gone while this fsync succeeds: nothing is durable any more.
    await expect(ledger.durable()).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    await expect(ledger.durable()).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    expect(heard).toEqual([]);
    db.close();
  });
});
