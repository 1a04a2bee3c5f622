import { ApiError, api } from './api.js';
import type { CashierContext } from './cashier-context.js';
import type { DeviceView } from './cashier-state.js';

interface Status {
  ledger: { outboxDepth: number };
  cloud: 'online' | 'offline' | 'none';
}

/** What the top bar and the receipt line show of the terminal: ledger, cloud link, devices, print jobs. */
export class TerminalStatus {
  constructor(private readonly c: CashierContext) {}

  /**
   * The unsynced count and the cloud link, asked on (re)connect; after that the daemon's
   * `status.updated` events keep them true (a sale appended, an ack, the link up or down).
   */
  async loadStatus(): Promise<void> {
    try {
      this.apply(await api<Status>('GET', '/api/v1/status'));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) throw err;
    }
    this.c.render();
  }

  /** A `status.updated` event: the same body as `GET /api/v1/status`. */
  onStatus(d: Record<string, unknown>): void {
    if (typeof d.cloud !== 'string' || typeof d.ledger !== 'object' || d.ledger === null) return;
    this.apply(d as unknown as Status);
    this.c.render();
  }

  private apply(st: Status): void {
    const s = this.c.s;
    s.ledger = st.ledger;
    s.cloud = st.cloud;
    // Code and QR need the cloud link; card is recorded locally and stays available.
    const online = st.cloud === 'online';
    s.tenders.code = online ? 'yes' : 'no';
    s.tenders.qr = online ? 'yes' : 'no';
  }

  async loadDevices(): Promise<void> {
    try {
      this.c.s.devices = await api<Record<string, DeviceView>>('GET', '/api/v1/devices');
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) throw err;
      this.c.s.devices = undefined; // no such route: the bar stays hidden
    }
  }

  /** A `devices.updated` event: the set of devices changed. */
  onDevicesUpdated(): void {
    void this.loadDevices().then(() => this.c.render());
  }

  /** A `device.status` event carries the device's whole snapshot: no request needed. */
  onDeviceStatus(d: Record<string, unknown>): void {
    const { device, ...snap } = d;
    if (typeof device !== 'string' || typeof snap.state !== 'string') {
      this.onDevicesUpdated();
      return;
    }
    this.c.s.devices = { ...(this.c.s.devices ?? {}), [device]: snap as unknown as DeviceView };
    this.c.render();
  }

  onPrintJob(d: Record<string, unknown>): void {
    if (typeof d.refId !== 'string') return;
    const prints = this.c.s.prints;
    prints.delete(d.refId); // re-inserted last: the map keeps the newest 200 in order
    prints.set(d.refId, {
      jobId: String(d.jobId),
      kind: String(d.kind),
      status: String(d.status),
      reprint: d.reprint === true,
    });
    while (prints.size > 200) prints.delete(prints.keys().next().value as string);
    this.c.render();
  }

  /**
   * The print queue as it is now, for jobs no `print.job` event told of yet (a receipt waiting for
   * paper has had none). Events stay authoritative: a job already known is not overwritten.
   */
  async loadPrintJobs(): Promise<void> {
    const prints = this.c.s.prints;
    try {
      const { jobs } = await api<{
        jobs: Array<{ id: string; kind: string; refId: string | null; status: string; reprint: boolean }>;
      }>('GET', '/api/v1/print-jobs?limit=20');
      // Newest first: the first job seen for a refId is its latest.
      for (const j of jobs) {
        if (j.refId === null || prints.has(j.refId)) continue;
        prints.set(j.refId, { jobId: j.id, kind: j.kind, status: j.status, reprint: j.reprint });
      }
    } catch {
      return; // no print queue: nothing to show
    }
    this.c.render();
  }
}
