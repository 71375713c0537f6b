/**
 * session-sync over Server-Sent Events: readers hold `GET /sessions/{key}/events`, the writer
 * sends merge patches. With `readFrom` set, readers stream from a second server instance
 * (the cross-instance case on Redis).
 */
import type { Agent } from 'node:http';
import { openEventStream, type EventStream } from '../lib/sse-reader.js';
import { createSession, keepAliveAgent, patchSession, type Session } from '../lib/sync-api.js';
import type { DeliveryListener, PropagationTarget } from './transport.js';

export interface SseTargetOptions {
  name: string;
  /** Starts the server(s); returns the URL writes go to and the URL readers stream from. */
  startServers(): Promise<{ writeUrl: string; readUrl: string; stop(): Promise<void> }>;
}

export class SseTarget implements PropagationTarget {
  readonly name: string;
  #options: SseTargetOptions;
  #servers?: { writeUrl: string; readUrl: string; stop(): Promise<void> };
  #writer: Agent = keepAliveAgent(16);
  #session?: Session;
  #streams: EventStream[] = [];

  constructor(options: SseTargetOptions) {
    this.name = options.name;
    this.#options = options;
  }

  async start(): Promise<void> {
    this.#servers = await this.#options.startServers();
  }

  async openReaders(count: number, onDelivery: DeliveryListener): Promise<void> {
    const servers = this.#requireServers();
    const session = await createSession(this.#writer, servers.writeUrl, { seq: 0 });
    this.#session = session;

    const opening: Promise<void>[] = [];
    for (let reader = 0; reader < count; reader += 1) {
      opening.push(
        new Promise<void>((subscribed, failed) => {
          const url = `${servers.readUrl}/sessions/${session.key}/events`;
          openEventStream(url, (event) => {
            if (event.event === 'snapshot') subscribed();
            else if (event.event === 'change') {
              onDelivery(reader, (JSON.parse(event.data) as { patch: { seq: number } }).patch.seq);
            }
          }).then((stream) => this.#streams.push(stream), failed);
        }),
      );
    }
    await Promise.all(opening);
  }

  async write(seq: number): Promise<void> {
    const servers = this.#requireServers();
    const { status } = await patchSession(
      this.#writer,
      servers.writeUrl,
      this.#session!,
      `{"seq":${seq}}`,
    );
    if (status !== 200) throw new Error(`PATCH answered ${status}`);
  }

  async closeReaders(): Promise<void> {
    for (const stream of this.#streams) stream.close();
    await Promise.all(this.#streams.map((stream) => stream.ended));
    this.#streams = [];
  }

  async stop(): Promise<void> {
    this.#writer.destroy();
    await this.#servers?.stop();
  }

  #requireServers() {
    if (!this.#servers) throw new Error(`${this.name}: start() first`);
    return this.#servers;
  }
}
