/**
 * What the propagation benchmark needs from each system under test: readers on one shared
 * document, and a way to make a write that names its sequence number, so each reader can
 * say which write it just saw.
 */

/** Called by a reader for every write it sees, as soon as it has decoded it. */
export type DeliveryListener = (reader: number, seq: number) => void;

export interface PropagationTarget {
  /** Short label for tables and JSON, for example `session-sync SSE`. */
  readonly name: string;
  /** Starts the server child(ren). */
  start(): Promise<void>;
  /**
   * Creates a fresh session (or document) and opens `count` readers on it. Resolves when
   * every reader is subscribed, so that no write made afterwards can be missed.
   */
  openReaders(count: number, onDelivery: DeliveryListener): Promise<void>;
  /** Makes write number `seq` on the session; resolves when the server acknowledged it. */
  write(seq: number): Promise<void>;
  /** Closes the readers of the last `openReaders`. */
  closeReaders(): Promise<void>;
  /** Stops the server child(ren). */
  stop(): Promise<void>;
}
