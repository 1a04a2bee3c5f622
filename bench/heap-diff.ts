import { readFileSync } from 'node:fs';
import { fmt } from './stats.js';

/*
 * What the daemon's heap holds more of in one snapshot than in another (`start-memory` with
 * BENCH_HEAP_SNAPSHOTS=dir writes idle-quiet and after-quiet): self size and count by kind and
 * constructor, the largest growths first. `node dist/bench/heap-diff.js BEFORE AFTER [N]`.
 */

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

type Tally = Map<string, { size: number; count: number }>;

/** Self size and count per `type:name` (strings grouped as one). */
export function tally(file: string): Tally {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const at = (f: string) => fields.indexOf(f);
  const [typeAt, nameAt, sizeAt] = [at('type'), at('name'), at('self_size')];
  const out: Tally = new Map();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!] ?? '?';
    const name =
      type === 'string' || type === 'concatenated string' || type === 'sliced string'
        ? '(strings)'
        : (snap.strings[snap.nodes[i + nameAt]!] ?? '?');
    const key = `${type}:${name.slice(0, 60)}`;
    const t = out.get(key) ?? { size: 0, count: 0 };
    t.size += snap.nodes[i + sizeAt]!;
    t.count += 1;
    out.set(key, t);
  }
  return out;
}

function main(): void {
  const [before, after, n = '25'] = process.argv.slice(2);
  if (!before || !after) {
    console.error('usage: heap-diff BEFORE.heapsnapshot AFTER.heapsnapshot [N]');
    process.exit(2);
  }
  const a = tally(before);
  const b = tally(after);
  const total = (t: Tally) => [...t.values()].reduce((s, x) => s + x.size, 0);
  const rows = [...new Set([...a.keys(), ...b.keys()])]
    .map((k) => {
      const x = a.get(k) ?? { size: 0, count: 0 };
      const y = b.get(k) ?? { size: 0, count: 0 };
      return { k, d: y.size - x.size, dc: y.count - x.count, y };
    })
    .sort((p, q) => q.d - p.d)
    .slice(0, Number(n));
  const kb = (v: number) => `${fmt(v / 1024, 1)} KB`;
  console.log(`heap: ${kb(total(a))} -> ${kb(total(b))} (self sizes)`);
  for (const r of rows)
    console.log(
      `  ${kb(r.d).padStart(10)}  ${String(r.dc).padStart(7)}  ${r.k}  (now ${kb(r.y.size)}, ${r.y.count})`,
    );
}

main();
