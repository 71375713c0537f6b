/**
 * The throughput ceiling: a bare `node:http` server that reads a request body, keeps it in a
 * Map under the request path and answers a small JSON acknowledgement. No parsing, no
 * validation, no versions: what any server on this machine pays at the least for a write.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveAsChild } from './child-protocol.js';

await serveAsChild(async () => {
  const bodies = new Map<string, Buffer>();
  let writes = 0;

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodies.set(request.url ?? '/', Buffer.concat(chunks));
      writes += 1;
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(`{"version":${writes}}`);
    });
  });
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
});
