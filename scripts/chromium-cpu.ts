/**
 * Chromium's CPU from /proc, for the browser benches: seconds per process kind and thread name.
 */
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

export const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** A Chromium process's kind from its command line: browser, renderer, or the utility it runs (network, storage…). */
function processKind(cmdline: string): string {
  const type = /--type=([\w-]+)/.exec(cmdline)?.[1];
  if (!type) return 'browser';
  const sub = /--utility-sub-type=([\w.]+)/.exec(cmdline)?.[1];
  return sub ? sub.replace(/\.mojom\./, '.').replace(/^network\.NetworkService$/, 'network') : type;
}

/**
 * CPU seconds of every thread of Chromium's processes (under `pid`, not under `except`), keyed by
 * `<process kind>/<thread name>`: where the browser's CPU goes (the page's main thread is CrRendererMain,
 * hashing workers are DedicatedWorker threads, the network service its own utility process).
 */
export async function chromiumThreadCpu(pid: number, except: number): Promise<Map<string, number>> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
  }
  const under = (p: number) => {
    for (let q = parents.get(p) ?? 0; q > 1; q = parents.get(q) ?? 0) {
      if (q === except || p === except) return false;
      if (q === pid) return true;
    }
    return false;
  };
  const cpu = new Map<string, number>();
  for (const p of parents.keys()) {
    if (!under(p)) continue;
    const kind = processKind((await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' '));
    for (const tid of await readdir(`/proc/${p}/task`).catch(() => [] as string[])) {
      const stat = await readFile(`/proc/${p}/task/${tid}/stat`, 'utf8').catch(() => '');
      const name =
        stat
          .slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
          .replace(/[\d:/]+$/, '')
          .trim() || '?';
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const key = `${kind}/${name}`;
      cpu.set(key, (cpu.get(key) ?? 0) + (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
    }
  }
  return cpu;
}
