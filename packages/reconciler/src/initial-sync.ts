/**
 * The registry's readiness after start: ready once every name of the initial lists has been
 * decided once (a reconcile that resolved it or decided it is none, not one whose reads failed
 * for a transient reason), or once the bound passed, whichever comes first; then ready for good.
 * Names still undecided at the bound stay listed as pending until they are decided.
 *
 * A small state machine that the watcher feeds:
 *
 * | state      | input                     | next                                 |
 * | ---------- | ------------------------- | ------------------------------------ |
 * | `listing`  | `decided(name)`           | `listing` (the decision is remembered) |
 * | `listing`  | `listed(names)`           | `deciding`, or `ready` when none is left |
 * | `deciding` | `decided(name)`           | `deciding`, or `ready` with the last one |
 * | `deciding` | `expired()`               | `expired` (ready; the rest still pending) |
 * | `expired`  | `decided(name)`           | `expired`, or `ready` with the last one |
 * | `ready`    | anything                  | `ready`                              |
 */
export type InitialSyncState = 'listing' | 'deciding' | 'expired' | 'ready';

/** See {@link InitialSyncState}. */
export class InitialSync {
  #state: InitialSyncState = 'listing';
  #pending = new Set<string>();
  /** Names decided before the initial lists were known (only while `listing`). */
  #decidedEarly = new Set<string>();

  get state(): InitialSyncState {
    return this.#state;
  }

  /** True once every initial name was decided, or the bound passed. */
  get ready(): boolean {
    return this.#state === 'ready' || this.#state === 'expired';
  }

  /** The names of the initial lists, known once the caches synced. Only the first call counts. */
  listed(names: Iterable<string>): void {
    if (this.#state !== 'listing') return;
    for (const name of names) if (!this.#decidedEarly.has(name)) this.#pending.add(name);
    this.#decidedEarly.clear();
    this.#state = this.#pending.size === 0 ? 'ready' : 'deciding';
  }

  /** A reconcile of `name` decided on content. True when that made every initial name decided. */
  decided(name: string): boolean {
    if (this.#state === 'listing') {
      this.#decidedEarly.add(name);
      return false;
    }
    if (this.#state === 'ready' || !this.#pending.delete(name)) return false;
    if (this.#pending.size > 0) return false;
    this.#state = 'ready';
    return true;
  }

  /** The bound passed: ready, with whatever is still pending listed. */
  expired(): void {
    if (this.#state === 'deciding') this.#state = 'expired';
  }

  /** The initial names not decided yet, sorted (none while `listing`: nothing is known yet). */
  pending(): string[] {
    return [...this.#pending].sort();
  }
}
