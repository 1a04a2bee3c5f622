import { statSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/offline/db.js';
import { GroupCommit } from '../../../src/offline/group-commit.js';
import { Ledger } from '../../../src/offline/ledger.js';
import { tempDir } from '../../helpers/daemon.js';
import { silentLogger } from '../../helpers/test-log.js';
import { waitFor } from '../../helpers/wait.js';

// Issue 18: the WAL checkpoint (pages copied into the database file, two fsyncs) never runs on
// the event loop under a group commit: the daemon's connection does not checkpoint, a worker does.

function groupCommitted(everyChanges: number) {
  const dir = tempDir();
  const file = join(dir, 'posd.db');
  const db = openDatabase({ file, log: silentLogger(), synchronous: 'NORMAL' });
  const groupCommit = new GroupCommit({ db, file, log: silentLogger(), checkpoints: { everyChanges } });
  const ledger = new Ledger({ db, dir, groupCommit });
  return { db, file, groupCommit, ledger };
}

describe('WAL checkpoints off the event loop', () => {
  it('the ledger’s connection never checkpoints; the WAL is checkpointed on another thread once enough is flushed', async () => {
    const t = groupCommitted(500);
    expect(t.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const body = { note: 'x'.repeat(2_000) };
    // 3,000 records of 2 KB: far past SQLite's own 1,000-page checkpoint, had it been left on.
    for (let i = 0; i < 30; i++) {
      t.ledger.transact(() => {
        for (let j = 0; j < 100; j++) t.ledger.append('note.added', body);
      });
      await t.ledger.durable();
      if (t.groupCommit.checkpointer.runs.length > 0) break;
    }
    const run = await waitFor(() => t.groupCommit.checkpointer.runs[0], 'a checkpoint');
    expect(run.threadId).not.toBe(threadId);
    expect(run.checkpointed).toBeGreaterThan(0);
    expect(run.checkpointed).toBe(run.log); // PASSIVE: nothing held it back (no reader, no writer)
    expect(statSync(t.file).size).toBeGreaterThan(500 * 1024); // the pages are in the database file
    await t.groupCommit.close();
    t.db.close();
  });

  it('under writes that never pause the WAL still starts over: it stays bounded, not growing with the sales', async () => {
    const t = groupCommitted(200);
    // The thread's start (SQLite loaded in a new thread: a second on a loaded machine) comes once,
    // at the first checkpoint; this is about what follows, so it starts on a small WAL.
    t.ledger.transact(() => {
      for (let j = 0; j < 200; j++) t.ledger.append('note.added', { j });
    });
    await t.ledger.durable();
    await waitFor(() => t.groupCommit.checkpointer.runs[0], 'the thread’s first checkpoint');
    const body = { note: 'x'.repeat(1_000) };
    // 8 MB of records, each commit awaited as a sale's answer is, no pause between them.
    for (let i = 0; i < 800; i++) {
      t.ledger.transact(() => {
        for (let j = 0; j < 10; j++) t.ledger.append('note.added', body);
      });
      await t.ledger.durable();
    }
    expect(t.groupCommit.checkpointer.runs.length).toBeGreaterThan(0);
    expect(statSync(`${t.file}-wal`).size).toBeLessThan(3 * 1024 * 1024);
    await t.groupCommit.close();
    t.db.close();
  });

  it('an idle ledger keeps no thread: it starts at the first checkpoint and ends after idleMs', async () => {
    const dir = tempDir();
    const file = join(dir, 'posd.db');
    const db = openDatabase({ file, log: silentLogger(), synchronous: 'NORMAL' });
    const groupCommit = new GroupCommit({
      db,
      file,
      log: silentLogger(),
      checkpoints: { everyChanges: 10, idleMs: 50 },
    });
    const ledger = new Ledger({ db, dir, groupCommit });
    const threads = () => (groupCommit.checkpointer as unknown as { worker: unknown }).worker;
    await ledger.durable();
    expect(threads()).toBeUndefined();
    ledger.transact(() => {
      for (let j = 0; j < 20; j++) ledger.append('note.added', { j });
    });
    await ledger.durable();
    await waitFor(() => groupCommit.checkpointer.runs[0], 'a checkpoint');
    await waitFor(() => (threads() === undefined ? true : undefined), 'the idle thread to end');
    await groupCommit.close();
    db.close();
  });

  it("a flush's waiters (the sales' replies) run before the checkpoint it may start", async () => {
    const t = groupCommitted(1);
    const order: string[] = [];
    const flushed = t.groupCommit.checkpointer.flushed.bind(t.groupCommit.checkpointer);
    t.groupCommit.checkpointer.flushed = () => {
      order.push('checkpoint');
      flushed();
    };
    t.ledger.transact(() => t.ledger.append('sale.completed', { n: 1 }));
    const reply = t.ledger
      .durable()
      .then(() => Promise.resolve()) // a reply is a few continuations away
      .then(() => order.push('reply'));
    await reply;
    await waitFor(() => (order.includes('checkpoint') ? true : undefined), 'the checkpoint request');
    expect(order).toEqual(['reply', 'checkpoint']);
    await waitFor(() => (t.groupCommit.checkpointer.runs.length > 0 ? true : undefined), 'a checkpoint');
    await t.groupCommit.close();
    t.db.close();
  });

  it('a thread that cannot be started leaves the connection checkpointing itself, not nobody', async () => {
    const t = groupCommitted(10);
    (t.groupCommit.checkpointer as unknown as { thread: () => never }).thread = () => {
      throw new Error('ERR_WORKER_INIT_FAILED');
    };
    await t.ledger.durable();
    t.ledger.transact(() => {
      for (let j = 0; j < 20; j++) t.ledger.append('note.added', { j });
    });
    await t.ledger.durable();
    await waitFor(
      () => (t.db.pragma('wal_autocheckpoint', { simple: true }) === 1000 ? true : undefined),
      'SQLite checkpointing again',
    );
    await t.groupCommit.close();
    t.db.close();
  });
});
