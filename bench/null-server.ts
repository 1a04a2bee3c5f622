import { createServer } from 'node:http';

/*
 * The do-nothing HTTP server of `sale-commit` (its own process, `fork`): reads the body and
 * answers 201 with a small JSON, keep-alive like the daemon. The daemon's p99 at 100 sales/s is
 * compared with this one's, measured by the same client. IPC: sends `{port}` once listening.
 */

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(201, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end('{"saleId":"0","receiptNo":"B1-000000"}');
  });
});
server.keepAliveTimeout = 5_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('message', (m) => {
  if (m === 'exit') process.exit(0);
});
