/**
 * The pub/sub side of the Redis store: one subscriber connection per store, one Redis channel
 * per session that has listeners on this instance, and the local listeners of each channel.
 *
 * `SUBSCRIBE` is sent the moment a session gets its first listener. ioredis writes it to the
 * socket before `add` returns, so a write another instance makes afterwards (it can only learn
 * of this listener through a message sent after that) reaches Redis behind it. Calls through
 * this store for that session wait for `pending` instead, because two connections of one
 * process are not ordered: a read after subscribing then covers whatever the subscription
 * might have missed. When the connection is down nothing is sent: the store subscribes every
 * channel again once it is back and then tells all listeners to `resync`.
 */
import type { Cluster, Redis } from 'ioredis';
import type { SessionEvent, SessionListener } from './store.js';

/** Channels per `SUBSCRIBE` when re-subscribing after a reconnect. */
const SUBSCRIBE_BATCH = 1000;

const ignore = (): void => {};

interface Channel {
  name: string;
  listeners: Set<SessionListener>;
  /** `deleted` was delivered: the pub/sub message and a sweep may both report it. */
  gone: boolean;
}

export class RedisSubscriptions {
  readonly #subscriber: Redis | Cluster;
  /** By session key. */
  readonly #channels = new Map<string, Channel>();
  /** Session key by channel name, to route messages. */
  readonly #sessionOf = new Map<string, string>();
  readonly #pending = new Map<string, Promise<void>>();

  /** @param subscriber - a connection used for nothing but pub/sub */
  constructor(subscriber: Redis | Cluster) {
    this.#subscriber = subscriber;
    subscriber.on('message', (channel: string, message: string) => {
      this.#onMessage(channel, message);
    });
  }

  /** Sessions with at least one listener here. */
  get sessions(): string[] {
    return [...this.#channels.keys()];
  }

  /**
   * Registers `listener` for the events of session `key`, published on `channelName`.
   * @returns a function that removes it (and unsubscribes the channel after its last listener)
   */
  add(key: string, channelName: string, listener: SessionListener): () => void {
    let channel = this.#channels.get(key);
    if (!channel) {
      channel = { name: channelName, listeners: new Set(), gone: false };
      this.#channels.set(key, channel);
      this.#sessionOf.set(channelName, key);
      if (this.#subscriber.status === 'ready') this.#subscribe(channelName);
    }
    channel.listeners.add(listener);

    const current = channel;
    return () => {
      if (!current.listeners.delete(listener) || current.listeners.size > 0) return;
      if (this.#channels.get(key) !== current) return;
      this.#channels.delete(key);
      this.#sessionOf.delete(current.name);
      if (this.#subscriber.status === 'ready') {
        this.#subscriber.unsubscribe(current.name).catch(ignore);
      }
    };
  }

  /** Settles once Redis has confirmed the `SUBSCRIBE` of `channelName`, if one is in flight. */
  pending(channelName: string): Promise<void> | undefined {
    return this.#pending.get(channelName);
  }

  /** Subscribes every channel again, on a fresh connection. */
  async resubscribeAll(): Promise<void> {
    const names = [...this.#sessionOf.keys()];
    for (let start = 0; start < names.length; start += SUBSCRIBE_BATCH) {
      await this.#subscriber.subscribe(...names.slice(start, start + SUBSCRIBE_BATCH));
    }
  }

  /** Delivers an event to the listeners of one session on this instance only. */
  emit(key: string, event: SessionEvent): void {
    const channel = this.#channels.get(key);
    if (!channel) return;
    if (event.type === 'deleted') {
      if (channel.gone) return;
      channel.gone = true;
    } else if (event.type === 'change') {
      channel.gone = false;
    }
    for (const listener of channel.listeners) {
      try {
        listener(event);
      } catch {
        // A failing listener must not keep the event from the others.
      }
    }
  }

  /** Delivers an event to every listener on this instance. */
  emitAll(event: SessionEvent): void {
    for (const key of this.sessions) this.emit(key, event);
  }

  #subscribe(channelName: string): void {
    // A failure here means the connection dropped; the reconnect re-subscribes and resyncs.
    const confirmed = this.#subscriber.subscribe(channelName).then(ignore, ignore);
    this.#pending.set(channelName, confirmed);
    void confirmed.then(() => {
      if (this.#pending.get(channelName) === confirmed) this.#pending.delete(channelName);
    });
  }

  #onMessage(channelName: string, message: string): void {
    const key = this.#sessionOf.get(channelName);
    if (key === undefined) return;
    let event: SessionEvent;
    try {
      event = JSON.parse(message) as SessionEvent;
    } catch {
      // Only the store's scripts publish here; anything else on the channel is not ours.
      return;
    }
    this.emit(key, event);
  }
}
