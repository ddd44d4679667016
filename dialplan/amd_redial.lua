--[[
amd_redial.lua: redial a busy number until it answers, then connect the user to it (the
"call the NHS for me" bot). Needs mod_lua, mod_db and mod_rust_amd. Copy it into FreeSWITCH's
scripts directory.

  Start:  fs_cli -x "luarun amd_redial.lua start <name> <target> <user> [interval_s] [max_attempts] [voice_start data]"
  Stop:   fs_cli -x "luarun amd_redial.lua stop <name>"
  Status: fs_cli -x "db select/amd_redial/<name>_status"

  <name>       any word (letters, digits, _ . -; not ending in _status): the job's key, so
               several jobs can run at once
  <target>     dial string of the contended number, e.g. sofia/gateway/mygw/441234567890
  <user>       dial string of the user's phone, e.g. user/1000 or sofia/gateway/mygw/447700900123
  interval_s   seconds between attempts (default 60)
  max_attempts attempts before giving up (default 20)
  voice_start data: detection settings for the answered call (default: amd.conf.xml)

Each attempt rings the target for up to 30 s (amd_redial_ring_s in the global variables
changes that). A busy, unanswered or failed attempt is logged with its hangup cause and the
next one follows after the interval. An answered attempt is listened to (voice_start,
waitforresult) and then:
  - person, unsure, or a machine that is an IVR (no voicemail beep): the user's phone is called
    and the two are bridged (the target hears ringback meanwhile); the job ends;
  - a voicemail (machine, beep) or a network announcement (sit): hung up, retried;
  - a fax: hung up, and the job gives up (calling again will not reach a person).
If the user's phone is busy or does not answer, the answered call is hung up and the job ends
(outcome user-unreachable). Every attempt and the outcome are logged as
"amd_redial[<name>] ...", and the last status is kept in mod_db (realm amd_redial).

"stop" works at any point before the user answers: between attempts, while the target rings,
during detection or while the user's phone rings (it hangs up the call in progress). Once the
user has answered, the call is theirs and stop leaves it alone.
--]]

local api = freeswitch.API()
local REALM = "amd_redial"
local DEFAULT_INTERVAL_S = 60
local DEFAULT_MAX_ATTEMPTS = 20
local RINGBACK = "%(2000,4000,440,480)"

local function log(level, name, message)
	freeswitch.consoleLog(level, string.format("amd_redial[%s] %s\n", name, message))
end

local function trim(s)
	return ((s or ""):gsub("^%s+", ""):gsub("%s+$", ""))
end

local function db_get(key)
	local v = trim(api:executeString("db select/" .. REALM .. "/" .. key))
	if v == "" then
		return nil
	end
	return v
end

-- mod_db splits its argument at '/': values here never hold one.
local function db_set(key, value)
	api:executeString("db insert/" .. REALM .. "/" .. key .. "/" .. value:gsub("/", " of "))
end

local function db_del(key)
	api:executeString("db delete/" .. REALM .. "/" .. key)
end

-- A stop request has a key of its own, which only "stop" writes. mod_db rewrites a key as a
-- delete and then an insert: had "stop" rewritten the job's own key, the job could read it in
-- between, take the missing key for a stop, end and delete it, and the insert would then
-- leave a stale "stopping" behind, refusing every later start of that name. The ':' keeps
-- these keys apart from every job name, which cannot hold one.
local function stop_key(name)
	return name .. ":stop"
end

local function leg_key(name)
	return name .. ":uuid"
end

local function stopping(name)
	return db_get(stop_key(name)) ~= nil
end

local function set_status(name, text)
	db_set(name .. "_status", text)
end

local function usage(why)
	freeswitch.consoleLog("ERR", "amd_redial: " .. why .. "; usage: luarun amd_redial.lua start <name> <target> <user> "
		.. "[interval_s] [max_attempts] [voice_start data] | stop <name>\n")
end

local action, name = argv[1], argv[2]
-- A name ending in _status would share its key with another job's status.
if name == nil or not name:match("^[%w_.-]+$") or name:match("_status$") then
	usage("a job name (letters, digits, _ . -; not ending in _status) is required")
	return
end

if action == "stop" then
	local state = db_get(name)
	if state == nil then
		log("WARNING", name, "stop: no such job running")
		return
	end
	if state == "connected" then
		log("NOTICE", name, "stop: already connected; the call is left alone")
		return
	end
	db_set(stop_key(name), "requested")
	-- The job deletes its own key before the stop key: if its key is gone now, the job ended
	-- between the look above and the write, perhaps after deleting the stop key, so the
	-- request is ours to clear.
	if db_get(name) == nil then
		db_del(stop_key(name))
		log("WARNING", name, "stop: no such job running (it had just ended)")
		return
	end
	local leg = db_get(leg_key(name))
	if leg ~= nil then
		api:executeString("uuid_kill " .. leg .. " ORIGINATOR_CANCEL")
	end
	log("NOTICE", name, "stop requested")
	return
end

if action ~= "start" then
	usage("unknown action '" .. tostring(action) .. "'")
	return
end

local target, user = argv[3], argv[4]
local interval_s = tonumber(argv[5] or DEFAULT_INTERVAL_S)
local max_attempts = tonumber(argv[6] or DEFAULT_MAX_ATTEMPTS)
local settings = argv[7] or ""
if target == nil or user == nil then
	usage("a target and a user dial string are required")
	return
end
if interval_s == nil or interval_s < 0 or max_attempts == nil or max_attempts < 1 then
	usage("interval_s must be a number >= 0 and max_attempts a number >= 1")
	return
end
if db_get(name) ~= nil then
	log("ERR", name, "already running (state " .. db_get(name) .. "); stop it first")
	return
end
local ring_s = tonumber(trim(api:executeString("global_getvar amd_redial_ring_s"))) or 30

-- A request left by a stop that raced the end of an earlier job of this name is not for this one.
db_del(stop_key(name))
db_set(name, "running")
log("NOTICE", name, string.format("calling %s every %s s, at most %d times; then connecting %s", target, interval_s, max_attempts, user))

-- Sleeps between attempts, waking up for a stop.
local function wait(seconds)
	local left = seconds * 1000
	while left > 0 and not stopping(name) do
		local slice = math.min(left, 200)
		freeswitch.msleep(slice)
		left = left - slice
	end
end

-- One attempt: returns "retry", or the job's outcome.
local function attempt(n)
	local leg = trim(api:executeString("create_uuid"))
	db_set(leg_key(name), leg)
	local call = freeswitch.Session(string.format(
		"{ignore_early_media=true,origination_uuid=%s,originate_timeout=%d}%s", leg, ring_s, target))
	if not (call:ready() and call:answered()) then
		local cause = call:hangupCause() or "UNKNOWN"
		log("NOTICE", name, string.format("attempt %d of %d: %s", n, max_attempts, cause))
		set_status(name, string.format("attempt %d of %d: %s", n, max_attempts, cause))
		return stopping(name) and "stopped" or "retry"
	end

	call:execute("voice_start", settings)
	call:execute("waitforresult")
	local status = call:getVariable("amd_status") or ""
	local result = call:getVariable("amd_result") or ""
	local cause = call:getVariable("amd_cause") or ""
	local heard = string.format("answered by %s (%s, %s)", status ~= "" and status or "no result", result, cause)
	log("NOTICE", name, string.format("attempt %d of %d: %s", n, max_attempts, heard))
	set_status(name, string.format("attempt %d of %d: %s", n, max_attempts, heard))
	if not call:ready() then
		log("NOTICE", name, "the answered call ended during detection")
		return "retry"
	end
	if stopping(name) then
		call:hangup("ORIGINATOR_CANCEL")
		return "stopped"
	end
	if result == "fax" then
		call:hangup("NORMAL_CLEARING")
		return "fax"
	end
	if status == "machine" and (result == "beep" or result == "sit") then
		call:hangup("NORMAL_CLEARING")
		return "retry"
	end

	call:execute("voice_stop")
	log("NOTICE", name, "connecting " .. user)
	call:setVariable("ringback", RINGBACK)
	call:setVariable("call_timeout", tostring(ring_s))
	-- The user's answer marks the job connected, so that a late stop leaves the call alone.
	local mark = "api_on_answer=db insert/" .. REALM .. "/" .. name .. "/connected"
	if user:sub(1, 1) == "{" then
		call:execute("bridge", "{" .. mark .. "," .. user:sub(2))
	else
		call:execute("bridge", "{" .. mark .. "}" .. user)
	end
	if db_get(name) ~= "connected" then
		local disposition = call:getVariable("originate_disposition") or "UNKNOWN"
		log("WARNING", name, string.format("the user %s was not reached (%s): hanging up the answered call", user, disposition))
		if call:ready() then
			call:hangup("NORMAL_CLEARING")
		end
		return stopping(name) and "stopped" or "user-unreachable (" .. disposition .. ")"
	end
	if call:ready() then
		call:hangup("NORMAL_CLEARING")
	end
	return "connected"
end

local outcome = "gave-up after " .. max_attempts .. " attempts"
for n = 1, max_attempts do
	if stopping(name) then
		outcome = "stopped"
		break
	end
	local result = attempt(n)
	db_del(leg_key(name))
	if result ~= "retry" then
		outcome = result
		break
	end
	if stopping(name) then
		outcome = "stopped"
		break
	end
	if n < max_attempts then
		wait(interval_s)
	end
end

-- The job's state goes before "done" is logged, so whoever waits for that line finds it gone.
set_status(name, "done: " .. outcome)
db_del(name)
db_del(leg_key(name))
db_del(stop_key(name))
log("NOTICE", name, "done: " .. outcome)
