import type { ChaosReport } from './chaos.js';
import { HEADER_CLASSES, type HostileCase, TARGET_FORMS } from './hostile-http.js';
import type { RawAnswer } from './raw-exchange.js';

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

/** The seed in the environment variable `name`, or a fresh one (printed by the run to replay it). */
export function seedFromEnv(name: string): number {
  const value = process.env[name];
  return value ? Number(value) : Math.floor(Math.random() * 2 ** 31);
}

/** `VMCP_CHAOS_SEED` or a fresh seed; `VMCP_CHAOS_SECONDS` or the default. */
export function chaosSettings(defaultSeconds: number): { seed: number; seconds: number } {
  const seed = seedFromEnv('VMCP_CHAOS_SEED');
  const seconds = process.env.VMCP_CHAOS_SECONDS
    ? Number(process.env.VMCP_CHAOS_SECONDS)
    : defaultSeconds;
  return { seed, seconds };
}

/** What a run of generated hostile HTTP input covered, and how the server answered. */
export class HttpRunStats {
  readonly #seed: number;
  readonly #cases: number;
  readonly #kinds = new Map<string, number>();
  readonly #forms = new Map<string, number>();
  readonly #headers = new Map<string, number>();
  readonly #statuses = new Map<string, number>();
  #batches = 0;
  #split = 0;
  #closedByServer = 0;
  #leftOpen = 0;

  constructor(seed: number, cases: number) {
    this.#seed = seed;
    this.#cases = cases;
  }

  add(sent: HostileCase, answer: RawAnswer): void {
    bump(this.#kinds, sent.kind);
    if (sent.requests.length > 1) this.#batches++;
    if (sent.splits.length > 0) this.#split++;
    for (const request of sent.requests) {
      bump(this.#forms, request.form);
      for (const cls of request.headerClasses) bump(this.#headers, cls);
    }
    for (const status of answer.statuses) bump(this.#statuses, String(status));
    if (answer.statuses.length === 0) bump(this.#statuses, 'none (closed)');
    if (answer.closedByServer) this.#closedByServer++;
    else this.#leftOpen++;
  }

  /** The kinds, target forms and header classes no case reached. */
  missingClasses(): string[] {
    return [
      ...['pipelined', 'garbage', 'request-then-garbage'].filter((k) => !this.#kinds.has(k)),
      ...TARGET_FORMS.filter((form) => !this.#forms.has(form)),
      ...HEADER_CLASSES.filter((cls) => !this.#headers.has(cls)),
      ...(this.#batches === 0 ? ['pipelined batches'] : []),
      ...(this.#split === 0 ? ['split writes'] : []),
    ];
  }

  format(): string {
    const list = (counts: Map<string, number>) =>
      [...counts.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, count]) => `${name} ${count}`)
        .join(', ');
    return [
      `http property: seed ${this.#seed} (replay with VMCP_HTTP_SEED=${this.#seed}), ${this.#cases} cases (VMCP_HTTP_CASES)`,
      `  cases: ${list(this.#kinds)}; pipelined batches of 2 to 4 requests ${this.#batches}; split across writes ${this.#split}`,
      `  request targets by form: ${list(this.#forms)}`,
      `  header classes (requests carrying one): ${list(this.#headers)}`,
      `  answers by status: ${list(this.#statuses)}`,
      `  connections closed by the server ${this.#closedByServer}, left open (a stream or a long-poll, ended by the client) ${this.#leftOpen}`,
    ].join('\n');
  }
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
