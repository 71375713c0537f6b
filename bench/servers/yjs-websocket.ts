/**
 * The comparison server: Yjs's own y-websocket server (`y-websocket/bin/utils` of y-websocket
 * 2.x, the last line that ships client and server in one package), wired exactly as its
 * `bin/server.cjs` does, but on 127.0.0.1 and an OS-chosen port. No persistence.
 */
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { serveAsChild } from './child-protocol.js';

const require = createRequire(import.meta.url);
const { setupWSConnection } = require('y-websocket/bin/utils') as {
  setupWSConnection: (socket: unknown, request: unknown) => void;
};

await serveAsChild(async () => {
  const sockets = new WebSocketServer({ noServer: true });
  sockets.on('connection', setupWSConnection);

  const server = createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/plain' });
    response.end('okay');
  });
  server.on('upgrade', (request, socket, head) => {
    sockets.handleUpgrade(request, socket, head, (ws) => sockets.emit('connection', ws, request));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
});
