import type { ChaosReport } from './chaos.js';

const percentile = (values: number[], p: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
};

/** The figures of a chaos run, one block of text. */
export function formatReport(title: string, report: ChaosReport): string {
  const faults = Object.entries(report.faults)
    .map(([name, count]) => `${name} ${count}`)
    .join(', ');
  return [
    `chaos ${title}: seed ${report.seed} (replay with VMCP_CHAOS_SEED=${report.seed})`,
    `  operations applied ${report.operations}, refused by the API server ${report.rejected}, unanswered (server down) ${report.unreachable}`,
    `  faults injected ${Object.values(report.faults).reduce((a, b) => a + b, 0)}: ${faults || 'none'}`,
    `  converged after ${report.convergeMs.length} quiesce points: p50 ${percentile(report.convergeMs, 50)} ms, max ${Math.max(...report.convergeMs, 0)} ms`,
    `  version steps ${report.versionSteps}, without a content change ${report.emptyVersionSteps}`,
    `  backends lost or stale ${report.lostOrStale}`,
    `  continuous check: ${report.samples} samples, ${report.sentinelChecks} sentinel checks, ${report.violations} violations (a sentinel missing or different)`,
    ...(report.violationDetails.length
      ? ['  violations:', ...report.violationDetails.map((d) => `    ${d}`)]
      : []),
    ...(report.diffs.length ? ['  diff:', ...report.diffs.map((d) => `    ${d}`)] : []),
  ].join('\n');
}

/** `VMCP_CHAOS_SEED` or a fresh seed; `VMCP_CHAOS_SECONDS` or the default. */
export function chaosSettings(defaultSeconds: number): { seed: number; seconds: number } {
  const seed = process.env.VMCP_CHAOS_SEED
    ? Number(process.env.VMCP_CHAOS_SEED)
    : Math.floor(Math.random() * 2 ** 31);
  const seconds = process.env.VMCP_CHAOS_SECONDS
    ? Number(process.env.VMCP_CHAOS_SECONDS)
    : defaultSeconds;
  return { seed, seconds };
}
