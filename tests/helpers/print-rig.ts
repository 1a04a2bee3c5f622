import { join } from 'node:path';
import { EventBus } from '../../src/bus.js';
import { openDatabase } from '../../src/offline/db.js';
import { GroupCommit } from '../../src/offline/group-commit.js';
import { Ledger } from '../../src/offline/ledger.js';
import { PrintQueue } from '../../src/offline/print-queue.js';
import { PrintService } from '../../src/services/print-service.js';
import { tempDir } from './daemon.js';
import { recordingDb } from './recording-db.js';
import { ScriptedPrinter } from './scripted-printer.js';
import { silentLogger } from './test-log.js';

export interface PrintRigOptions {
  printer?: ScriptedPrinter;
  /** An existing state directory (a restart). */
  dir?: string;
  monotonic?: () => number;
  /** Printer bytes of a job; by default `kind:payload`, `REPRINT ` before a reprint. */
  render?: (kind: string, payload: unknown) => Uint8Array | undefined;
}

/**
 * A print service on a real ledger file under group commit, with a scripted printer; the queue's
 * statements are recorded (`record`). Not started.
 */
export function printRig(options: PrintRigOptions = {}) {
  const dir = options.dir ?? tempDir();
  const file = join(dir, 'posd.db');
  const base = openDatabase({ file, log: silentLogger(), synchronous: 'NORMAL' });
  const { db, record } = recordingDb(base);
  const groupCommit = new GroupCommit({ db: base, file, log: silentLogger() });
  const ledger = new Ledger({ db: base, dir, groupCommit });
  const printer = options.printer ?? new ScriptedPrinter();
  const queue = new PrintQueue(db);
  const bus = new EventBus();
  const service = new PrintService({
    queue,
    ledger,
    bus,
    log: silentLogger(),
    ...(options.monotonic ? { monotonic: options.monotonic } : {}),
    render: (kind, payload, { reprint }) =>
      options.render?.(kind, payload) ??
      Buffer.from(`${reprint ? 'REPRINT ' : ''}${kind}:${String(payload)}`),
    printer,
  });
  return { base, dir, record, groupCommit, ledger, queue, service, printer, bus };
}
