/**
 * What a `SyncClient` tells: the details of its events, and the small typed emitter that
 * delivers them. The element re-dispatches each as a DOM event.
 */
import type { Json, Peer } from '../protocol.js';
import type { SyncError } from './errors.js';

export type SyncStatus = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'offline' | 'error';

export interface SyncReadyDetail {
  key: string;
  version: number;
  state: Json;
  canWrite: boolean;
  /** True when the server had lost the session and this client re-created it. */
  recovered: boolean;
}

export interface SyncChangeDetail {
  state: Json;
  version: number;
  /** Merge patch from the previous state to `state`. */
  patch: Json;
  /** `local`: this client's own write, shown at once; `remote`: anything else. */
  origin: 'local' | 'remote';
}

export interface SyncClientEventMap {
  ready: SyncReadyDetail;
  change: SyncChangeDetail;
  status: { status: SyncStatus };
  presence: { peers: Peer[] };
  error: SyncError;
}

/** Calls listeners by event type; a throwing listener cannot break the caller. */
export class Emitter {
  private _listeners: {
    [K in keyof SyncClientEventMap]?: Set<(d: SyncClientEventMap[K]) => void>;
  } = {};

  /**
   * Listens to an event of the client.
   * @returns a function that stops listening
   */
  on<K extends keyof SyncClientEventMap>(
    type: K,
    listener: (detail: SyncClientEventMap[K]) => void,
  ): () => void {
    const set = ((this._listeners as any)[type] ??= new Set()) as Set<typeof listener>;
    set.add(listener);
    return () => set.delete(listener);
  }

  protected _emit<K extends keyof SyncClientEventMap>(
    type: K,
    detail: SyncClientEventMap[K],
  ): void {
    this._listeners[type]?.forEach((listener) => {
      try {
        listener(detail);
      } catch (error) {
        // A listener's bug must not stop the client; report it as the platform would.
        setTimeout(() => {
          throw error;
        });
      }
    });
  }
}
