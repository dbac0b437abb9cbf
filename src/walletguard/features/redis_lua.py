"""The two server-side scripts of `RedisFeatureStore`: one reads an event's features, one adds
an event. Each runs atomically, in one round trip.

Both take one key per operation (`KEYS[i]`) and the operations' codes and arguments, in the
same order, flattened into `ARGV`. Numbers arrive as the decimal strings Python wrote, so
times and bucket numbers are compared exactly as the memory store compares them.
"""

from __future__ import annotations

import hashlib

READ = """
-- c lo hi   count/sum window: events in buckets lo..hi (one integer)
-- u lo hi   count/sum window: units of buckets lo..hi (the non-empty buckets' integers, as
--           strings: summed in Python, where integers never round)
-- d lo hi   distinct window: ZCOUNT lo hi (lo is exclusive: '(<time>')
-- p         profile hash: b, v, mt, mu
-- r field   reports hash: HGET field
local out = {}
local a = 1
for k = 1, #KEYS do
  local key, op = KEYS[k], ARGV[a]
  if op == 'c' or op == 'u' then
    local fields = {}
    for b = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]) do
      fields[#fields + 1] = op .. b
    end
    local vals = redis.call('HMGET', key, unpack(fields))
    if op == 'c' then
      local n = 0
      for i = 1, #vals do
        if vals[i] then n = n + tonumber(vals[i]) end
      end
      out[k] = n
    else
      local present = {}
      for i = 1, #vals do
        if vals[i] then present[#present + 1] = vals[i] end
      end
      out[k] = present
    end
    a = a + 3
  elseif op == 'd' then
    out[k] = redis.call('ZCOUNT', key, ARGV[a + 1], ARGV[a + 2])
    a = a + 3
  elseif op == 'p' then
    out[k] = redis.call('HMGET', key, 'b', 'v', 'mt', 'mu')
    a = a + 1
  elseif op == 'r' then
    out[k] = redis.call('HGET', key, ARGV[a + 1])
    a = a + 2
  else
    return redis.error_reply('unknown read operation ' .. tostring(op))
  end
end
return out
"""

UPDATE = """
-- c bucket units buckets ttl   count one event of `units` in `bucket` (its sum saturating
--                              at 2^63 - 1), then drop the buckets at or before
--                              (newest bucket - buckets)
-- d value time horizon ttl     value last seen at time (never moved back), then drop the
--                              values last seen at or before horizon
-- p version new blob           write the profile if its version is still `version`
-- m time units                 last money in
-- r field                      fraud reports hash: one more report of `field`
-- o ttl                        only once: the event's own key (KEYS[1]), set for ttl seconds;
--                              if it is already set, the event was added before and
--                              nothing is done
-- Returns 1; 0 when a profile write found a newer version (nothing else is affected);
-- 2 when the event had already been added.
local result = 1
local a = 1
if ARGV[1] == 'o' then
  if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then return 2 end
end
for k = 1, #KEYS do
  local key, op = KEYS[k], ARGV[a]
  if op == 'c' then
    local bucket = ARGV[a + 1]
    redis.call('HINCRBY', key, 'c' .. bucket, 1)
    local summed = redis.pcall('HINCRBY', key, 'u' .. bucket, ARGV[a + 2])
    if type(summed) == 'table' and summed.err then
      -- the sum would pass the largest 64-bit integer: it stays there, as in memory
      redis.call('HSET', key, 'u' .. bucket, '9223372036854775807')
    end
    local fields = redis.call('HKEYS', key)
    local newest = tonumber(bucket)
    for i = 1, #fields do
      local b = tonumber(string.sub(fields[i], 2))
      if b > newest then newest = b end
    end
    local horizon = newest - tonumber(ARGV[a + 3])
    local stale = {}
    for i = 1, #fields do
      if tonumber(string.sub(fields[i], 2)) <= horizon then stale[#stale + 1] = fields[i] end
    end
    if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
    redis.call('EXPIRE', key, ARGV[a + 4])
    a = a + 5
  elseif op == 'd' then
    redis.call('ZADD', key, 'GT', ARGV[a + 2], ARGV[a + 1])
    redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[a + 3])
    redis.call('EXPIRE', key, ARGV[a + 4])
    a = a + 5
  elseif op == 'p' then
    if (redis.call('HGET', key, 'v') or '0') == ARGV[a + 1] then
      redis.call('HSET', key, 'v', ARGV[a + 2], 'b', ARGV[a + 3])
    else
      result = 0
    end
    a = a + 4
  elseif op == 'm' then
    redis.call('HSET', key, 'mt', ARGV[a + 1], 'mu', ARGV[a + 2])
    a = a + 3
  elseif op == 'r' then
    redis.call('HINCRBY', key, ARGV[a + 1], 1)
    a = a + 2
  elseif op == 'o' then
    a = a + 2
  else
    return redis.error_reply('unknown update operation ' .. tostring(op))
  end
end
return result
"""

REPORTS = """
-- Fraud reports from resolved cases (`feature_reports` rows), each applied once whichever
-- worker sends it. KEYS: the reports hash, the hash of applied report ids, the cursor (the
-- highest id applied). ARGV: lookback, then per row: id, n, n typed keys.
-- A row is applied unless its id is in the applied hash, or is `lookback` ids or more
-- below the cursor (applied ids that far back are forgotten). Returns {applied, cursor}.
local reports, applied, cursor_key = KEYS[1], KEYS[2], KEYS[3]
local lookback = tonumber(ARGV[1])
local cursor = tonumber(redis.call('GET', cursor_key) or '0')
local done = 0
local a = 2
while a <= #ARGV do
  local id, n = ARGV[a], tonumber(ARGV[a + 1])
  if tonumber(id) > cursor - lookback and redis.call('HSETNX', applied, id, '1') == 1 then
    for i = 1, n do
      redis.call('HINCRBY', reports, ARGV[a + 1 + i], 1)
    end
    done = done + 1
    if tonumber(id) > cursor then cursor = tonumber(id) end
  end
  a = a + 2 + n
end
redis.call('SET', cursor_key, cursor)
local stale = {}
for _, id in ipairs(redis.call('HKEYS', applied)) do
  if tonumber(id) <= cursor - lookback then stale[#stale + 1] = id end
end
if #stale > 0 then redis.call('HDEL', applied, unpack(stale)) end
return {done, cursor}
"""


def sha1(script: str) -> str:
    """The id Redis knows a script by (EVALSHA)."""
    return hashlib.sha1(script.encode()).hexdigest()
