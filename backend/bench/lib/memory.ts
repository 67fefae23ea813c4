/**
 * Memory of the server process under a bench's load (Linux: /proc). `watchMemory(pid)` samples its resident set
 * (VmRSS) every `intervalMs` and, when a metrics URL is given, the Node figures the server exports on `/metrics`
 * (V8 heap used and total, external memory — which includes the embedded database's WebAssembly memory at its
 * size, though only the pages PostgreSQL touched are resident) every
 * `metricsEveryMs`; `stop()` answers the peak (VmHWM, the kernel's high-water mark of the resident set since the
 * process started, so it includes the start), the largest sample and the breakdown seen at that sample.
 */
import { readFileSync } from 'node:fs';

const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;

/** A `/proc/<pid>/status` field in MB (kB in the file), or null where it is not readable. */
function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? mb(Number(m[1])) : null;
  } catch {
    return null;
  }
}

/** Peak resident set size of a live process in MB (VmHWM), or null where /proc is not readable. */
export function peakRssMb(pid: number): number | null {
  return statusMb(pid, 'VmHWM');
}

/** Current resident set size of a live process in MB (VmRSS), or null. */
export function rssMb(pid: number): number | null {
  return statusMb(pid, 'VmRSS');
}

/** The server's own view of its memory, from prom-client's default metrics. */
export interface NodeMemory {
  heapUsedMb: number;
  heapTotalMb: number;
  /** Memory outside the V8 heap that V8 knows of: Buffers, ArrayBuffers and WebAssembly memories. */
  externalMb: number;
}

export interface MemoryFigures {
  /** VmHWM at the end: the highest resident set since the process started (its start included). */
  peakRssMb: number | null;
  /** VmRSS when the watch began (the server started and idle). */
  startRssMb: number | null;
  /** Largest VmRSS sample during the watch, and the last one. */
  maxSampledRssMb: number | null;
  endRssMb: number | null;
  samples: number;
  /** The server's heap and external memory at the metrics sample nearest the largest RSS sample. */
  atMaxRss?: NodeMemory;
  /** Largest V8 heap used and external memory seen over the watch. */
  maxHeapUsedMb?: number;
  maxExternalMb?: number;
}

export interface MemoryWatch {
  stop(): Promise<MemoryFigures>;
}

function parseNodeMemory(text: string): NodeMemory | undefined {
  const value = (name: string) => {
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return m ? Math.round((Number(m[1]) / 1048576) * 10) / 10 : undefined;
  };
  const heapUsedMb = value('nodejs_heap_size_used_bytes');
  const heapTotalMb = value('nodejs_heap_size_total_bytes');
  const externalMb = value('nodejs_external_memory_bytes');
  if (heapUsedMb === undefined || heapTotalMb === undefined || externalMb === undefined) return undefined;
  return { heapUsedMb, heapTotalMb, externalMb };
}

export function watchMemory(pid: number, opts: { intervalMs?: number; metricsUrl?: string; metricsEveryMs?: number } = {}): MemoryWatch {
  const intervalMs = opts.intervalMs ?? 200;
  const metricsEveryMs = opts.metricsEveryMs ?? 1000;
  const startRssMb = rssMb(pid);
  let maxSampled: number | null = startRssMb;
  let last: number | null = startRssMb;
  let samples = 0;
  let atMaxRss: NodeMemory | undefined;
  let latestNode: NodeMemory | undefined;
  let maxHeapUsedMb: number | undefined;
  let maxExternalMb: number | undefined;
  const sample = () => {
    const r = rssMb(pid);
    if (r === null) return;
    samples += 1;
    last = r;
    if (maxSampled === null || r > maxSampled) {
      maxSampled = r;
      atMaxRss = latestNode;
    }
  };
  const timer = setInterval(sample, intervalMs);
  let stopped = false;
  const metricsLoop = (async () => {
    if (!opts.metricsUrl) return;
    while (!stopped) {
      const text = await fetch(`${opts.metricsUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })
        .then((res) => res.text())
        .catch(() => '');
      const node = parseNodeMemory(text);
      if (node) {
        latestNode = node;
        maxHeapUsedMb = Math.max(maxHeapUsedMb ?? 0, node.heapUsedMb);
        maxExternalMb = Math.max(maxExternalMb ?? 0, node.externalMb);
        // The breakdown belongs to the largest RSS sample taken since the previous metrics answer.
        const r = rssMb(pid);
        if (r !== null && maxSampled !== null && r >= maxSampled) atMaxRss = node;
      }
      await new Promise((r) => setTimeout(r, metricsEveryMs));
    }
  })();
  return {
    async stop() {
      sample();
      clearInterval(timer);
      stopped = true;
      await metricsLoop;
      return {
        peakRssMb: peakRssMb(pid),
        startRssMb,
        maxSampledRssMb: maxSampled,
        endRssMb: last,
        samples,
        ...(atMaxRss ? { atMaxRss } : {}),
        ...(maxHeapUsedMb !== undefined ? { maxHeapUsedMb } : {}),
        ...(maxExternalMb !== undefined ? { maxExternalMb } : {}),
      };
    },
  };
}

/** The memory targets of issue 16: peak RSS of the server process through burst, latency curve and backfill. */
export const PEAK_RSS_TARGET_MB = { pglite: 250, postgres: 200 } as const;
