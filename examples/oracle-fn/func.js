// The function's entry: the Fn FDK listens on the socket Fn names in FN_LISTENER and hands
// each gateway request to the session-sync handler. Settings come from func.yaml `config`
// and `fn config` (REDIS_URL, BASE_PATH, ALLOW_ORIGIN).
import { serveFn } from 'session-sync/server/fn';

serveFn();
