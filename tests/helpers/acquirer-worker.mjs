// A reference-cloud instance in a worker thread: runs a list of requests against a shared SQLite
// file, each started at the same moment as the other worker's (a barrier), to race them.
import { parentPort, workerData } from 'node:worker_threads';
import { AcquirerSimulator } from '../../dist/cloud/acquirer.js';
import { CloudStore } from '../../dist/cloud/store.js';

const { file, device, requests, barrier, parties } = workerData;
const store = new CloudStore(file);
const acquirer = new AcquirerSimulator(store);
const turn = new Int32Array(barrier);
const answers = [];
for (let i = 0; i < requests.length; i += 1) {
  Atomics.add(turn, 0, 1);
  while (Atomics.load(turn, 0) < parties * (i + 1)) Atomics.wait(turn, 0, Atomics.load(turn, 0), 1);
  const [op, args] = requests[i];
  try {
    answers.push(acquirer.handle({ tenant: 't1', device }, op, args));
  } catch (err) {
    answers.push({ thrown: String(err) });
  }
}
store.close();
parentPort.postMessage(answers);
