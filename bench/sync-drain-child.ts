import { generateKeyPairSync } from 'node:crypto';
import { dirname } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IPublishPacket } from 'mqtt';
import { CloudService } from '../cloud/cloud-service.js';
import { createRootLogger } from '../src/log.js';
import { openDatabase } from '../src/offline/db.js';
import { GroupCommit } from '../src/offline/group-commit.js';
import { Ledger } from '../src/offline/ledger.js';
import { MqttLink } from '../src/sync/mqtt-link.js';
import { topicsFor } from '../src/sync/topics.js';
import { Uplink } from '../src/sync/uplink.js';
import { nowMs } from './stats.js';

/*
 * One side of `sync-drain` in its own process, so each side's fsyncs (the LD_PRELOAD shim's
 * counter) and bytes written (/proc/<pid>/io) are its own:
 *   cloud  <brokerUrl> <dbFile>            the reference cloud
 *   device <brokerUrl> <dbFile> <records>  the terminal's ledger as the daemon runs it (WAL,
 *                                          synchronous=NORMAL, group commit) and its uplink
 * Driven over IPC: `ready`, then `start` → `done {seconds, lag}`, then `exit`.
 */

const [role, url, file, records] = process.argv.slice(2) as [string, string, string, string?];
const log = createRootLogger('silent');
const send = (m: unknown) => process.send?.(m);

async function cloud(): Promise<void> {
  const { privateKey } = generateKeyPairSync('ed25519');
  const service = new CloudService({ brokerUrl: url, dbFile: file, signingKey: privateKey });
  await service.start();
  send({ ready: true });
  process.on('message', (m) => {
    if (m === 'count') send({ stored: service.store.countRecords() });
    if (m === 'exit') void service.stop().then(() => process.exit(0));
  });
}

async function device(): Promise<void> {
  const total = Number(records);
  const db = openDatabase({ file, log, synchronous: 'NORMAL' });
  const groupCommit = new GroupCommit({ db, file, log });
  const ledger = new Ledger({ db, dir: dirname(file), groupCommit });
  const topics = topicsFor('bench', 'B1');
  const link = new MqttLink({
    url,
    clientId: 'bench.B1',
    topics,
    epoch: ledger.epoch,
    appVersion: 'bench',
    bootedAt: new Date().toISOString(),
    log,
    durable: () => ledger.durable(),
  });
  const uplink = new Uplink({
    // As CloudSync wires it: the uplink sends flushed records, so its batches wait for nothing.
    link: {
      get isConnected() {
        return link.isConnected;
      },
      get sendWindow() {
        return link.sendWindow;
      },
      publish: (topic, payload) => link.publishNow(topic, payload),
    },
    outbox: ledger.outbox,
    topic: topics.upLedger,
    log,
    settings: { ackWaitMs: 200 },
  });
  link.on(topics.downAck, (payload: Buffer, packet: IPublishPacket) => {
    const ack = JSON.parse(payload.toString()) as { epoch: string; ackedUpTo: number; rejected?: [] };
    uplink.onAck(ack.epoch, ack.ackedUpTo, ack.rejected ?? [], packet.retain);
  });
  link.onConnect(() => uplink.onConnected());
  await ledger.durable();
  send({ ready: true });
  process.on('message', (m) => {
    if (m === 'exit') {
      uplink.stop();
      void link
        .stop()
        .then(() => groupCommit.close())
        .then(() => {
          db.close();
          process.exit(0);
        });
    }
    if (m !== 'start') return;
    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    const start = nowMs();
    const acked = () => {
      if (ledger.ackedUpTo() < total) return;
      const seconds = (nowMs() - start) / 1000;
      lag.disable();
      const ms = (ns: number) => Math.max(0, ns / 1e6 - 5);
      send({
        done: {
          seconds,
          lag: { p50: ms(lag.percentile(50)), p99: ms(lag.percentile(99)), max: ms(lag.max) },
        },
      });
      clearInterval(timer);
    };
    const timer = setInterval(acked, 20);
    uplink.start();
    link.start();
  });
}

await (role === 'cloud' ? cloud() : device());
