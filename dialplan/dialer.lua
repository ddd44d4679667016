--[[
mod_com_amd page's Lua dialer, as the page gives it but for two lines: the gateway and the
welcome prompt's directory are settings (the page has sofia/gateway/mygw/ and
/usr/local/freeswitch/sounds). Copy it into FreeSWITCH's scripts directory and run

  luarun dialer.lua 55552222 [dial prefix, default sofia/gateway/mygw/]

It calls the number, starts detection at the answer, gives it 3 s, stops it and reads
amd_status: a machine gets the welcome prompt once its greeting has gone quiet, anything else
is bridged to user/100. 3 s is the page's figure; our machine decisions take 3.1-3.4 s at the median
(docs/accuracy.md), so a machine still undecided at voice_stop goes the person's way.
Give it total_analysis_time (6 s by default) or use waitforresult to let every call decide.
--]]

local dst_number = argv[1]
local gateway = argv[2] or "sofia/gateway/mygw/"
-- Connecting to the freeswitch API.
api = freeswitch.API()
local sounds_dir = api:executeString("global_getvar sounds_dir")
use_amd = api:executeString("amd_available")

subscriber_session = freeswitch.Session("{ignore_early_media=true}" .. gateway .. dst_number)

while (subscriber_session:ready() and not subscriber_session:answered()) do
	-- Waiting for answer.
	freeswitch.msleep(500)
end

if subscriber_session:ready() and subscriber_session:answered() then
	freeswitch.consoleLog("INFO", string.format("Number answered call %s.", dst_number))
	freeswitch.consoleLog("INFO", string.format("AMD Enable on %s.", dst_number))
	if use_amd == "true" then
		subscriber_session:execute("voice_start")
		-- Giving some time to AMD to work on the call.
		subscriber_session:sleep(3000)
		subscriber_session:execute("voice_stop")
		amd_detect = subscriber_session:getVariable("amd_status")
		if amd_detect == "machine" then
			freeswitch.consoleLog("INFO", "amd_status: machine")
			subscriber_session:execute("wait_for_silence", "300 30 5 25000")
			subscriber_session:execute("playback", sounds_dir .. "/en/us/callie/ivr/8000/ivr-welcome_to_freeswitch.wav")
			subscriber_session:hangup()
			return
		end
		-- Do your actions if human answered. Ex. Transfer to operator/user 100.
		subscriber_session:execute("bridge", "user/100")
	end
else
	freeswitch.consoleLog("INFO", string.format("Cannot call %s", dst_number))
	return
end
