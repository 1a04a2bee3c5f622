import { Type } from '@sinclair/typebox';
import type { DeviceManager } from '../../drivers/device-manager.js';
import type { Printing } from '../../printing/printing.js';
import type { ShiftService } from '../../services/shift-service.js';
import type { Route } from '../http-server.js';
import { intQuery, validateBody } from '../validate.js';

export const InjectScanSchema = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 512, pattern: '^[\\x20-\\x7e]+$' }) },
  { additionalProperties: false },
);

/** Devices, the print queue, reprints and reports on paper. */
export function deviceRoutes(devices: DeviceManager, printing: Printing, shifts: ShiftService): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/devices',
      auth: true,
      handle: () => ({ status: 200, body: devices.snapshot() }),
    },
    {
      method: 'POST',
      path: '/api/v1/devices/scanner/scans',
      auth: true,
      handle: (ctx) => {
        devices.injectScan(validateBody(InjectScanSchema, ctx.body).code);
        return { status: 202, body: { accepted: true } };
      },
    },
    {
      method: 'POST',
      path: '/api/v1/devices/printer/test-page',
      auth: true,
      handle: () => ({ status: 202, body: { jobId: printing.printTestPage() } }),
    },
    {
      method: 'GET',
      path: '/api/v1/print-jobs',
      auth: true,
      handle: (ctx) => ({
        status: 200,
        body: {
          jobs: printing.service
            .recent(intQuery(ctx.query, 'limit', 50, 1, 500))
            .map(({ payload: _payload, ...job }) => job),
        },
      }),
    },
    {
      method: 'POST',
      path: '/api/v1/sales/:saleId/reprint',
      auth: true,
      handle: (ctx) => ({ status: 202, body: { jobId: printing.reprintReceipt(ctx.params.saleId!) } }),
    },
    {
      method: 'POST',
      path: '/api/v1/shifts/:shiftId/print',
      auth: true,
      handle: (ctx) => {
        const id = ctx.params.shiftId!;
        const report = id === 'current' ? shifts.currentReport() : shifts.reportOf(id);
        return { status: 202, body: { jobId: printing.printShiftReport(report) } };
      },
    },
  ];
}
