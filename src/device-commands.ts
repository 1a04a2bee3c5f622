import { PosError } from './errors.js';
import type { CommandService } from './services/command-service.js';

export interface DeviceCommandDeps {
  diagnostics: () => Record<string, unknown>;
  resendFrom: (fromSeq: number) => void;
  /** The reprint job's id. */
  reprint: (saleId: string) => string;
  printTestPage: () => string;
  /** The config version once the retained config has been asked for again. */
  resubscribeConfig: () => Promise<number>;
}

/** The terminal's own cloud commands (mqtt-v1 "Commands"), their arguments checked. */
export function registerDeviceCommands(commands: CommandService, d: DeviceCommandDeps): void {
  commands.register('diagnostics', () => d.diagnostics());
  commands.register('ledger.resync', (args) => {
    const fromSeq = args.fromSeq ?? 1;
    if (typeof fromSeq !== 'number' || !Number.isSafeInteger(fromSeq) || fromSeq < 1) {
      throw new PosError('VALIDATION_FAILED', 'args.fromSeq: must be a whole number from 1');
    }
    d.resendFrom(fromSeq);
    return { fromSeq };
  });
  commands.register('reprint', (args) => {
    const saleId = typeof args.saleId === 'string' ? args.saleId : '';
    if (!saleId) throw new PosError('VALIDATION_FAILED', 'reprint needs args.saleId');
    return { saleId, jobId: d.reprint(saleId) };
  });
  commands.register('print.test', () => ({ jobId: d.printTestPage() }));
  commands.register('config.resync', async () => ({ configVersion: await d.resubscribeConfig() }));
}
