/**
 * The abuse limits as Hono middleware: classify the request, find its client address, admit
 * it or answer 429, and for a stream give its slot back once the response has ended.
 */
import type { MiddlewareHandler } from 'hono';

import { clientAddress } from './client-address.js';
import { classify } from './limits.js';
import type { AbuseLimits } from './limits.js';

/**
 * Hono middleware that applies `limits` to every request under `/sessions`.
 *
 * @example app.use(limitsMiddleware(new AbuseLimits(options)))
 */
export function limitsMiddleware(limits: AbuseLimits): MiddlewareHandler {
  return async (c, next) => {
    const { kind, key } = classify(c.req.method, c.req.url);
    if (kind === 'other') return next();

    const address = clientAddress(c.req.raw, c.env, limits.options.trustProxyHeader);
    const admission = limits.admit(kind, address, key);
    try {
      await next();
    } catch (error) {
      admission.ended?.();
      throw error;
    }

    admission.answered(c.res.status);
    if (!admission.ended) return;
    const outgoing = (c.env as NodeBindings | undefined)?.outgoing;
    if (outgoing && typeof outgoing.once === 'function') {
      // Node: the response emits `close` once, however it ended. Watching it costs the
      // stream nothing per event, unlike wrapping its body.
      if (outgoing.closed || outgoing.destroyed) admission.ended();
      else outgoing.once('close', admission.ended);
    } else {
      c.res = endsWith(c.res, admission.ended);
    }
  };
}

/** The part of `@hono/node-server`'s bindings this module reads. */
interface NodeBindings {
  outgoing?: {
    closed?: boolean;
    destroyed?: boolean;
    once?(event: 'close', listener: () => void): unknown;
  };
}

/**
 * The same response, calling `ended` once its body has been read to the end, failed, or
 * been cancelled (the client went away). A response without a body has ended already.
 */
function endsWith(response: Response, ended: () => void): Response {
  const body = response.body;
  if (!body) {
    ended();
    return response;
  }

  const reader = body.getReader();
  const watched = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          ended();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        ended();
        controller.error(error);
      }
    },
    cancel(reason) {
      ended();
      return reader.cancel(reason);
    },
  });
  return new Response(watched, response);
}
