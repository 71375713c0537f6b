import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EventBatcher, joinEvents } from '../../src/server/event-batch.js';
import type { OutgoingEvent } from '../../src/server/event-batch.js';

const encoder = new TextEncoder();
const event = (text: string, version = Infinity): OutgoingEvent => ({
  bytes: encoder.encode(text),
  version,
});
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function recorder() {
  const deliveries: string[][] = [];
  const decoder = new TextDecoder();
  const batcher = new EventBatcher((events) =>
    deliveries.push(events.map((each) => decoder.decode(each.bytes))),
  );
  return { batcher, deliveries };
}

describe('EventBatcher', () => {
  test('passes the first event on at once and gathers the rest of that turn', async () => {
    const { batcher, deliveries } = recorder();
    batcher.push(event('a', 1));
    assert.deepEqual(deliveries, [['a']]);

    batcher.push(event('b', 2));
    batcher.push(event('c', 3));
    assert.deepEqual(deliveries, [['a']]);
    await nextTurn();
    assert.deepEqual(deliveries, [['a'], ['b', 'c']]);
  });

  test('keeps gathering while events keep coming, and sends at once after a quiet turn', async () => {
    const { batcher, deliveries } = recorder();
    batcher.push(event('a'));
    batcher.push(event('b'));
    await nextTurn();
    batcher.push(event('c'));
    assert.deepEqual(deliveries, [['a'], ['b']], 'busy: c waits for the end of its turn');
    await nextTurn();
    assert.deepEqual(deliveries, [['a'], ['b'], ['c']]);

    await nextTurn(); // a turn with nothing gathered: the loop is quiet again
    batcher.push(event('d'));
    assert.deepEqual(deliveries, [['a'], ['b'], ['c'], ['d']]);
  });

  test('drain delivers what is gathered at once, and only once', async () => {
    const { batcher, deliveries } = recorder();
    batcher.push(event('a'));
    batcher.push(event('b'));
    batcher.drain();
    assert.deepEqual(deliveries, [['a'], ['b']]);
    await nextTurn();
    await nextTurn();
    assert.deepEqual(deliveries, [['a'], ['b']]);
  });
});

describe('joinEvents', () => {
  test('joins the bytes in order and names the lowest version', () => {
    const joined = joinEvents([event('x', 7), event('yy'), event('z', 8)]);
    assert.equal(new TextDecoder().decode(joined.bytes), 'xyyz');
    assert.equal(joined.lowest, 7);
  });

  test('hands a single event over as it is', () => {
    const single = event('only', 3);
    const joined = joinEvents([single]);
    assert.equal(joined.bytes, single.bytes);
    assert.equal(joined.lowest, 3);
  });
});
