/**
 * Gathering a channel's events while the server is busy, so that each stream gets one write
 * per turn of the event loop instead of one per event.
 *
 * The first event after a quiet spell goes out at once: under light load nothing waits. Events
 * that come before the loop has come round again are gathered and written together at the end
 * of that turn, and so on for as long as they keep coming. On Node each write to a socket is a
 * system call, and at 400 writes a second to 200 readers those calls were most of the server's
 * time; gathered, a busy second costs as many calls per stream as the loop has turns, and the
 * rate one instance can fan out roughly doubled (BENCHMARKS.md).
 */

/** One event on its way to a channel's streams. */
export interface OutgoingEvent {
  bytes: Uint8Array;
  /** The session version it carries; Infinity for events outside that order (presence...). */
  version: number;
}

/** The end of this turn of the event loop, where the host has such a point. */
const endOfTurn: (task: () => void) => void =
  typeof setImmediate === 'function' ? (task) => setImmediate(task) : (task) => setTimeout(task, 0);

/** Passes events on at once when the loop is quiet and gathered while it is busy. */
export class EventBatcher {
  /** Events gathered this turn; undefined when the loop has been quiet for a whole turn. */
  #gathered: OutgoingEvent[] | undefined;

  /** @param deliver - writes events, in order, to the channel's streams */
  constructor(private readonly deliver: (events: OutgoingEvent[]) => void) {}

  push(event: OutgoingEvent): void {
    if (this.#gathered) {
      this.#gathered.push(event);
      return;
    }
    this.#gathered = [];
    endOfTurn(() => this.#endTurn());
    this.deliver([event]);
  }

  /** Delivers what is gathered now, before the streams end. */
  drain(): void {
    const gathered = this.#gathered;
    this.#gathered = undefined;
    if (gathered?.length) this.deliver(gathered);
  }

  #endTurn(): void {
    const gathered = this.#gathered;
    if (!gathered?.length) {
      this.#gathered = undefined;
      return;
    }
    // Still busy: keep gathering through the next turn too.
    this.#gathered = [];
    endOfTurn(() => this.#endTurn());
    this.deliver(gathered);
  }
}

/** The events as one chunk of bytes, and the lowest version among them. */
export function joinEvents(events: OutgoingEvent[]): { bytes: Uint8Array; lowest: number } {
  if (events.length === 1) return { bytes: events[0]!.bytes, lowest: events[0]!.version };
  let total = 0;
  let lowest = Infinity;
  for (const event of events) {
    total += event.bytes.byteLength;
    lowest = Math.min(lowest, event.version);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const event of events) {
    bytes.set(event.bytes, offset);
    offset += event.bytes.byteLength;
  }
  return { bytes, lowest };
}
