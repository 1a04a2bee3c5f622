import { createServer } from 'node:net';
import { EscPosDecoder } from '../src/drivers/printer/escpos-decoder.js';

/*
 * A plain ESC/POS network printer for benchmarks, in its own process (`fork`): it takes the bytes,
 * answers `DLE EOT` (online, paper fine), `GS r` and ASB as a healthy printer does, and counts the
 * receipts it cuts. No image is drawn (the simulated printer's PNGs are a demo cost). IPC: it sends
 * `{port}` once listening and answers `count` with `{receipts}`.
 */

let receipts = 0;
const server = createServer((socket) => {
  const decoder = new EscPosDecoder();
  socket.setNoDelay(true);
  socket.on('error', () => {});
  socket.on('data', (chunk: Buffer) => {
    const out: number[] = [];
    for (const cmd of decoder.push(chunk)) {
      if (cmd.op === 'status-query') out.push(0x12);
      else if (cmd.op === 'transmit-status') out.push(0x00);
      else if (cmd.op === 'asb' && cmd.mask) out.push(0x10, 0x00, 0x00, 0x00);
      else if (cmd.op === 'cut') receipts += 1;
    }
    if (out.length > 0) socket.write(Uint8Array.from(out));
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('message', (m) => {
  if (m === 'count') process.send?.({ receipts });
  if (m === 'exit') process.exit(0);
});
