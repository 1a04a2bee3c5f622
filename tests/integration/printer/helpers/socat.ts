import { type ChildProcess, spawn } from 'node:child_process';

export interface PtyPair {
  a: string;
  b: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** A real pty pair from socat; the two /dev/pts paths are read from its -d -d stderr. */
export function startPtyPair(timeoutMs = 5_000): Promise<PtyPair> {
  return new Promise((resolve, reject) => {
    const child = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let text = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`socat gave no pty paths in ${timeoutMs} ms: ${text}`));
    }, timeoutMs);
    const stop = () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      text += chunk;
      const paths = [...text.matchAll(/PTY is (\/dev\/pts\/\d+)/g)].map((m) => m[1]!);
      const ready = /starting data transfer loop/.test(text);
      if (paths.length >= 2 && ready) {
        clearTimeout(timer);
        resolve({ a: paths[0]!, b: paths[1]!, process: child, stop });
      }
    });
  });
}
