/** One measured quantity of a benchmark: every sample of it, in one unit. */
export interface BenchRow {
  /** What was measured, e.g. "integrity validation, 2M rows". */
  name: string;
  /** Every sample (the runner prints the median, min and max). */
  samples: number[];
  /** Unit of the samples: "ms", "s", "rows/s". */
  unit: string;
  /** Name of the row this one is compared against (measured in the same run). */
  baseline?: string;
  /** The target, as the issue states it, e.g. "<= 2x baseline". */
  target?: string;
  /** Whether this row's median meets the target, given the baseline's median. */
  meets?: (median: number, baselineMedian: number) => boolean;
}

export function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
