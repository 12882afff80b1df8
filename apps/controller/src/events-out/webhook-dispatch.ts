/** An event as the dispatcher sees it. */
export interface DispatchEvent {
  id: bigint;
  type: string;
  clusterId: string | null;
}

/** A webhook as the dispatcher sees it. */
export interface DispatchHook {
  id: string;
  clusterId: string | null;
  /** Null: every type. */
  types: readonly string[] | null;
  /** The end of the log when the webhook was created: it receives only later events. */
  startAfter: bigint;
}

export function hookWants(hook: DispatchHook, event: DispatchEvent): boolean {
  return (
    event.id > hook.startAfter && (hook.clusterId === null || hook.clusterId === event.clusterId) && (hook.types === null || hook.types.includes(event.type))
  );
}

export interface CursorStep {
  /** The new cursor: the last of `ids` that can be dispatched now. */
  cursor: bigint;
  /** How many of `ids` (from the start) that is. */
  accepted: number;
  /** The first missing id the cursor stopped at, if it did. */
  blockedAt?: bigint;
}

/**
 * How far the cursor may move over `ids` (the events after it, ascending). Ids are handed out before
 * commit, so a missing id may still appear: the cursor stops before it, unless every missing id up to
 * there is at or below `settledThrough` (known to belong to a transaction that ended without it).
 */
export function advanceCursor(cursor: bigint, ids: readonly bigint[], settledThrough: bigint): CursorStep {
  let at = cursor;
  let accepted = 0;
  for (const id of ids) {
    if (id !== at + 1n && id - 1n > settledThrough) return { cursor: at, accepted, blockedAt: at + 1n > settledThrough ? at + 1n : settledThrough + 1n };
    at = id;
    accepted++;
  }
  return { cursor: at, accepted };
}
