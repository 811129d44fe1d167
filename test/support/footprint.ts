/** A process's memory as /proc tells it, in KiB: RSS, its peak, the file-backed and anonymous parts, PSS. */
import { readdir, readFile } from 'node:fs/promises';

export interface Footprint {
  rss: number;
  hwm: number;
  anon: number;
  file: number;
  pss: number;
}

export async function footprint(pid: number): Promise<Footprint> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kib = (text: string, key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return {
    rss: kib(status, 'VmRSS'),
    hwm: kib(status, 'VmHWM'),
    anon: kib(status, 'RssAnon'),
    file: kib(status, 'RssFile'),
    pss: kib(rollup, 'Pss'),
  };
}

/** The pids (in this process's PID namespace) whose command line `matches`. */
export async function pidsWhere(matches: (argv: string[]) => boolean): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = await readFile(`/proc/${entry}/cmdline`, 'utf8').then(
      (c) => c.split('\0').filter(Boolean),
      () => [],
    );
    if (matches(argv)) found.push(Number(entry));
  }
  return found;
}
