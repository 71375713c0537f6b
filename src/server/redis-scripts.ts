/**
 * The Lua scripts of the Redis store, and the key layout they work on.
 *
 * Each script runs atomically inside Redis, so a version check and everything that depends on
 * it (new state, history entry, TTLs, the pub/sub message) happen as one step that no other
 * instance can interleave with. Scripts never decode the session's JSON: states, patches and
 * peer data pass through as opaque strings, so Lua's number and empty-table quirks cannot
 * change a document. Times come from Redis's own clock (`TIME`), so instances with skewed
 * clocks agree on when a peer expires.
 * https://redis.io/docs/latest/develop/interact/programmability/eval-intro/
 */

/** The keys and the channel of one session. */
export interface SessionKeys {
  /** Hash: tokenHash, version, state, updatedAt, peerSeq. */
  session: string;
  /** List of change JSON strings, oldest first, always ending at the current version. */
  history: string;
  /** Hash: clientId -> "<announcement sequence>:<data JSON>". */
  peers: string;
  /** Sorted set: clientId scored by the Redis time (ms) its presence runs out. */
  peerExpiry: string;
  /** Pub/sub channel carrying the session's events as `SessionEvent` JSON. */
  channel: string;
}

/**
 * Names a session's keys. The `{key}` hash tag puts all of them in one Redis Cluster slot, which
 * a multi-key script requires.
 */
export function sessionKeys(prefix: string, key: string): SessionKeys {
  const base = `${prefix}{${key}}:`;
  return {
    session: `${base}session`,
    history: `${base}history`,
    peers: `${base}peers`,
    peerExpiry: `${base}peer-expiry`,
    channel: `${base}events`,
  };
}

/**
 * How long a session's presence keys outlive its last peer: long enough for a sweep to still
 * find the expired peer and tell subscribers it left, after which Redis drops the keys even if
 * nobody sweeps.
 */
const PRESENCE_GRACE_MS = 60_000;

/** Helpers shared by the presence scripts. */
const PRESENCE_HELPERS = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Removes the peers whose time ran out; returns whether any did.
local function sweep(peers, expiry, now)
  local expired = redis.call('ZRANGEBYSCORE', expiry, '-inf', now)
  if #expired == 0 then return false end
  for i = 1, #expired, 500 do
    redis.call('HDEL', peers, unpack(expired, i, math.min(i + 499, #expired)))
  end
  redis.call('ZREMRANGEBYSCORE', expiry, '-inf', now)
  return true
end

-- Lets the presence keys expire a grace period after their last peer, or drops them.
local function settle(peers, expiry, now)
  local last = redis.call('ZRANGE', expiry, -1, -1, 'WITHSCORES')
  if #last == 0 then
    redis.call('DEL', peers, expiry)
    return
  end
  local ttl = math.max(1, tonumber(last[2]) - now) + ${PRESENCE_GRACE_MS}
  redis.call('PEXPIRE', peers, ttl)
  redis.call('PEXPIRE', expiry, ttl)
end

-- The peers as a JSON array, in the order they first announced themselves.
local function peer_list(peers)
  local flat = redis.call('HGETALL', peers)
  local items = {}
  for i = 1, #flat, 2 do
    local seq, data = string.match(flat[i + 1], '^(%d+):(.*)$')
    items[#items + 1] = { tonumber(seq), '{"clientId":' .. cjson.encode(flat[i]) .. ',"data":' .. data .. '}' }
  end
  table.sort(items, function(a, b) return a[1] < b[1] end)
  local parts = {}
  for i, item in ipairs(items) do parts[i] = item[2] end
  return '[' .. table.concat(parts, ',') .. ']'
end

local function publish_peers(channel, list)
  redis.call('PUBLISH', channel, '{"type":"presence","peers":' .. list .. '}')
end
`;

/** A script with its name, for error messages. */
export interface RedisScript {
  name: string;
  numberOfKeys: number;
  source: string;
}

/**
 * KEYS session, history, peers, peerExpiry; ARGV tokenHash, version, state, updatedAt, ttlMs.
 * Returns 1, or 0 when the key is taken. Leftovers of an expired namesake are cleared.
 */
export const CREATE: RedisScript = {
  name: 'create',
  numberOfKeys: 4,
  source: `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('HSET', KEYS[1], 'tokenHash', ARGV[1], 'version', ARGV[2], 'state', ARGV[3],
  'updatedAt', ARGV[4], 'peerSeq', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`,
};

/**
 * KEYS session, history; ARGV expectedVersion, state, change JSON (an object without its
 * version), updatedAt, ttlMs, historyLimit, channel.
 * Returns {1, version}, {-1, currentVersion} on a conflict, or {0} for an unknown session.
 */
export const COMPARE_AND_WRITE: RedisScript = {
  name: 'compareAndWrite',
  numberOfKeys: 2,
  source: `
local current = redis.call('HGET', KEYS[1], 'version')
if not current then return {0} end
if tonumber(current) ~= tonumber(ARGV[1]) then return {-1, tonumber(current)} end

local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'updatedAt', ARGV[4])

local entry = '{"version":' .. string.format('%d', version)
if ARGV[3] == '{}' then entry = entry .. '}' else entry = entry .. ',' .. string.sub(ARGV[3], 2) end
redis.call('RPUSH', KEYS[2], entry)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[6]), -1)

redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('PUBLISH', ARGV[7], '{"type":"change","change":' .. entry .. '}')
return {1, version}
`,
};

/**
 * KEYS session, history; ARGV since.
 * Returns nil for an unknown session, {1, version, changes JSON array or nil} when the history
 * reaches back to `since`, else {2, version, state JSON}.
 */
export const CHANGES_SINCE: RedisScript = {
  name: 'changesSince',
  numberOfKeys: 2,
  source: `
local found = redis.call('HMGET', KEYS[1], 'version', 'state')
if not found[1] then return false end
local version = tonumber(found[1])
local wanted = version - tonumber(ARGV[1])
if wanted == 0 then return {1, version} end
if wanted > 0 and wanted <= redis.call('LLEN', KEYS[2]) then
  local entries = redis.call('LRANGE', KEYS[2], -wanted, -1)
  return {1, version, '[' .. table.concat(entries, ',') .. ']'}
end
return {2, version, found[2]}
`,
};

/** KEYS session, history, peers, peerExpiry; ARGV channel. Returns 1, or 0 if unknown. */
export const DELETE: RedisScript = {
  name: 'delete',
  numberOfKeys: 4,
  source: `
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('PUBLISH', ARGV[1], '{"type":"deleted"}')
return 1
`,
};

/**
 * KEYS session, history, peers, peerExpiry; ARGV clientId, data JSON, ttlMs, sessionTtlMs,
 * channel. Returns the peers JSON, or nil for an unknown session. A peer's presence keeps the
 * session alive for at least a session TTL: someone is there, so it is not idle.
 */
export const PUT_PRESENCE: RedisScript = {
  name: 'putPresence',
  numberOfKeys: 4,
  source: `${PRESENCE_HELPERS}
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local now = now_ms()
local changed = sweep(KEYS[3], KEYS[4], now)

local previous = redis.call('HGET', KEYS[3], ARGV[1])
local seq
if previous then
  local old_seq, old_data = string.match(previous, '^(%d+):(.*)$')
  seq = old_seq
  if old_data ~= ARGV[2] then changed = true end
else
  seq = string.format('%d', redis.call('HINCRBY', KEYS[1], 'peerSeq', 1))
  changed = true
end
redis.call('HSET', KEYS[3], ARGV[1], seq .. ':' .. ARGV[2])
redis.call('ZADD', KEYS[4], now + tonumber(ARGV[3]), ARGV[1])
settle(KEYS[3], KEYS[4], now)

local session_ttl = tonumber(ARGV[4])
if redis.call('PTTL', KEYS[1]) < session_ttl then
  redis.call('PEXPIRE', KEYS[1], session_ttl)
  redis.call('PEXPIRE', KEYS[2], session_ttl)
end

local list = peer_list(KEYS[3])
if changed then publish_peers(ARGV[5], list) end
return list
`,
};

/**
 * KEYS session, peers, peerExpiry; ARGV clientId, channel.
 * Returns the peers JSON, or nil for an unknown session.
 */
export const REMOVE_PRESENCE: RedisScript = {
  name: 'removePresence',
  numberOfKeys: 3,
  source: `${PRESENCE_HELPERS}
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local now = now_ms()
local swept = sweep(KEYS[2], KEYS[3], now)
local removed = redis.call('HDEL', KEYS[2], ARGV[1]) == 1
redis.call('ZREM', KEYS[3], ARGV[1])
settle(KEYS[2], KEYS[3], now)
local list = peer_list(KEYS[2])
if removed or swept then publish_peers(ARGV[2], list) end
return list
`,
};

/**
 * KEYS session, peers, peerExpiry; ARGV channel. Drops expired peers (telling subscribers) and
 * returns the live ones as JSON, or nil for an unknown session. With `SWEEP_PEERS` below, this
 * is how an expiry becomes a `presence` event without anyone writing.
 */
export const LIVE_PEERS: RedisScript = {
  name: 'livePeers',
  numberOfKeys: 3,
  source: `${PRESENCE_HELPERS}
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local now = now_ms()
if not sweep(KEYS[2], KEYS[3], now) then return peer_list(KEYS[2]) end
settle(KEYS[2], KEYS[3], now)
local list = peer_list(KEYS[2])
publish_peers(ARGV[1], list)
return list
`,
};

/**
 * KEYS session, peers, peerExpiry; ARGV channel. The periodic sweep: like `LIVE_PEERS`, but
 * builds the peer list only when a peer expired. Returns 1, or 0 for an unknown session.
 */
export const SWEEP_PEERS: RedisScript = {
  name: 'sweepPeers',
  numberOfKeys: 3,
  source: `${PRESENCE_HELPERS}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local now = now_ms()
if sweep(KEYS[2], KEYS[3], now) then
  settle(KEYS[2], KEYS[3], now)
  publish_peers(ARGV[1], peer_list(KEYS[2]))
end
return 1
`,
};
