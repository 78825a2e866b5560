import { type FSWatcher, watch } from 'node:fs';
import { dirname } from 'node:path';
import { type Clock, type Logger, systemClock } from '@vmcp/kube-runtime';
import type { Environment } from '@vmcp/reconciler';
import { loadVmcpConfig, type VmcpConfig, VmcpConfigError } from './vmcp-config.js';

/** How long after a change of the config's directory the file is read again, unless told. */
export const DEFAULT_CONFIG_RELOAD_DEBOUNCE_MS = 1_000;
/** The longest debounce: a reload must follow an edit within a minute. */
export const MAX_CONFIG_RELOAD_DEBOUNCE_MS = 60_000;

/** Watches a directory: calls `onChange` on any change in it, `onError` if the watch breaks. */
export type DirectoryWatch = (
  dir: string,
  onChange: () => void,
  onError: (error: Error) => void,
) => () => void;

/** Options of {@link ConfigReloader}. */
export interface ConfigReloaderOptions {
  /** The config read at start: the last good one until a change reads well. */
  initial: VmcpConfig;
  /** Applies a config that read well (it may still throw, which counts as not valid). */
  apply(config: VmcpConfig): void;
  logger: Logger;
  /** Where `...Env` fields are read from. Default `process.env`. */
  env?: Environment;
  /** Timers of the debounce and of a broken watch's retry. Default the system clock. */
  clock?: Clock;
  /** Wall-clock time (epoch ms) of `invalidSince`. Default `Date.now`. */
  now?: () => number;
  /**
   * How long after the first change of a burst the file is read (the kubelet's swap of a mounted
   * ConfigMap is several changes). From 0 to 60000 ms; default 1000.
   */
  debounceMs?: number;
  /** Default: `fs.watch` of the directory. */
  watchDirectory?: DirectoryWatch;
  /** Default: {@link loadVmcpConfig}. */
  load?: (path: string, env: Environment) => VmcpConfig;
}

/** Whether the config file reads well now; what `/readyz` and `vmcp_config_valid` report. */
export interface ConfigStatus {
  path: string;
  /** False while the file does not read well: the last good config stays in force. */
  valid: boolean;
  /** Why it does not read well (a path in the file and the problem, never a value). */
  error?: string;
  /** Since when (epoch ms) it has not read well. */
  invalidSince?: number;
}

/**
 * Reads the vMCP config file again when it changes, and hands a config that reads well to
 * `apply`. The file's directory is watched, not the file: a mounted ConfigMap is updated by
 * swapping the `..data` symlink inside the directory, which a watch of the file never sees. A
 * burst of changes is read once, `debounceMs` after its first change. A file that does not read
 * well (missing, not YAML, a bad strategy, an unset variable) changes nothing that is served: the
 * last good config stays in force, the reason is logged once, and {@link status} says so until a
 * good one is read.
 */
export class ConfigReloader {
  readonly #options: ConfigReloaderOptions;
  readonly #clock: Clock;
  readonly #debounceMs: number;
  #lastText: string;
  #status: ConfigStatus;
  #pending: (() => void) | undefined;
  #stopWatch: (() => void) | undefined;
  #retry: (() => void) | undefined;
  #stopped = false;

  constructor(options: ConfigReloaderOptions) {
    const debounceMs = checkedDebounceMs(options.debounceMs ?? DEFAULT_CONFIG_RELOAD_DEBOUNCE_MS);
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#debounceMs = debounceMs;
    this.#lastText = options.initial.text;
    this.#status = { path: options.initial.path, valid: true };
  }

  /** Starts watching. */
  start(): void {
    this.#watch();
  }

  /** Stops watching and cancels a pending read. Idempotent. */
  stop(): void {
    this.#stopped = true;
    this.#pending?.();
    this.#pending = undefined;
    this.#stopWatch?.();
    this.#stopWatch = undefined;
    this.#retry?.();
  }

  /** Whether the file reads well now. */
  status(): ConfigStatus {
    return { ...this.#status };
  }

  /** Reads the file now (what a change triggers after the debounce). */
  check(): void {
    this.#pending = undefined;
    const { path } = this.#status;
    let config: VmcpConfig;
    try {
      config = (this.#options.load ?? loadVmcpConfig)(path, this.#options.env ?? process.env);
    } catch (error) {
      this.#invalid(error);
      return;
    }
    if (config.text === this.#lastText && this.#status.valid) return;
    this.#lastText = config.text;
    try {
      this.#options.apply(config);
    } catch (error) {
      this.#invalid(error);
      return;
    }
    const wasInvalid = !this.#status.valid;
    this.#status = { path, valid: true };
    this.#options.logger.info(
      { path, outgoingAuth: config.outgoingAuth?.summary() ?? null, recovered: wasInvalid },
      'vMCP config reloaded',
    );
  }

  #invalid(error: unknown): void {
    // Only the checker's own messages are shown: they name paths and problems, never values.
    const message =
      error instanceof VmcpConfigError
        ? error.message
        : `${this.#status.path}: could not be applied`;
    const changed = this.#status.error !== message;
    this.#status = {
      path: this.#status.path,
      valid: false,
      error: message,
      invalidSince: this.#status.invalidSince ?? (this.#options.now ?? Date.now)(),
    };
    if (changed) {
      this.#options.logger.warn(
        { err: message },
        'vMCP config does not read well; keeping the last good one',
      );
    }
  }

  /** A change in the directory: read once, `debounceMs` after the first change of a burst. */
  #changed(): void {
    if (this.#stopped || this.#pending !== undefined) return;
    this.#pending = this.#clock.setTimer(this.#debounceMs, () => this.check());
  }

  #watch(): void {
    if (this.#stopped) return;
    const dir = dirname(this.#status.path);
    try {
      this.#stopWatch = (this.#options.watchDirectory ?? watchDirectory)(
        dir,
        () => this.#changed(),
        (error) => this.#broken(error),
      );
    } catch (error) {
      this.#broken(error as Error);
    }
  }

  /** The watch broke (its directory went away): try again after a while, then read the file. */
  #broken(error: Error): void {
    this.#stopWatch?.();
    this.#stopWatch = undefined;
    if (this.#stopped) return;
    this.#options.logger.warn(
      { dir: dirname(this.#status.path), err: (error as NodeJS.ErrnoException).code ?? error.name },
      'cannot watch the vMCP config directory; retrying',
    );
    this.#retry = this.#clock.setTimer(Math.max(this.#debounceMs, 1_000), () => {
      this.#retry = undefined;
      this.#watch();
      if (this.#stopWatch !== undefined) this.#changed();
    });
  }
}

/** The debounce, within its range (the workspace's rule for durations: a `RangeError` otherwise). */
function checkedDebounceMs(value: number): number {
  const name = 'configReloadDebounceMs';
  if (!Number.isFinite(value))
    throw new RangeError(`${name} ${value} is not a finite number of milliseconds`);
  if (value < 0) throw new RangeError(`${name} ${value} is below the minimum of 0`);
  if (value > MAX_CONFIG_RELOAD_DEBOUNCE_MS) {
    throw new RangeError(
      `${name} ${value} is above the maximum of ${MAX_CONFIG_RELOAD_DEBOUNCE_MS} (1m)`,
    );
  }
  return value;
}

/** `fs.watch` of a directory, which never keeps the process alive. */
const watchDirectory: DirectoryWatch = (dir, onChange, onError) => {
  const watcher: FSWatcher = watch(dir, { persistent: false }, () => onChange());
  watcher.on('error', onError);
  return () => watcher.close();
};
