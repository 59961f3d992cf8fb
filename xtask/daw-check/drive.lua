-- cargo xtask daw-check, inside ardour7-lua: a MIDI track with the test player, Continuo (VST3)
-- and the logger; 48 kHz, 120 BPM (Ardour's default), the given buffer size. The player plays
-- three bars, a Suggest automation event at sample 300,000 (beat 12.5) asks for two bars, and
-- the transport rolls on to sample 620,000; then every logged event is written to the log file.
-- Arguments: session folder, buffer size, log file.
local folder, buffer, logfile = arg[1], tonumber (arg[2]), arg[3]
local backend = AudioEngine:set_backend ("None (Dummy)", "", "")
backend:set_buffer_size (buffer)
assert (backend:buffer_size () == buffer, "the dummy backend refused the buffer size")
local s = create_session (folder, "daw-check", 48000)
assert (s, "Ardour could not create a session in " .. folder)

local midi = ARDOUR.ChanCount (ARDOUR.DataType ("midi"), 1)
local track = s:new_midi_track (midi, midi, true, ARDOUR.PluginInfo (), nil, nil, 1, "Continuo",
	ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, false):front ()
local player = ARDOUR.LuaAPI.new_luaproc (s, "Continuo Test Player")
local continuo = ARDOUR.LuaAPI.new_plugin (s, "Continuo", ARDOUR.PluginType.VST3, "")
local logger = ARDOUR.LuaAPI.new_luaproc (s, "Continuo Test Logger")
assert (not player:isnil () and not logger:isnil (), "the test scripts were not found")
assert (not continuo:isnil (), "Ardour did not find Continuo.vst3 (was it scanned?)")
track:add_processor_by_index (player, 0, nil, true)
track:add_processor_by_index (continuo, 1, nil, true)
track:add_processor_by_index (logger, 2, nil, true)
player:activate ()
continuo:activate ()
logger:activate ()

-- Continuo's parameters in their order (0 Suggest, 1 Length, 4 Output channel, 7 Temperature,
-- 9 Generator), set in the plain units Ardour uses for VST3.
local function set (index, value)
	assert (ARDOUR.LuaAPI.set_processor_param (continuo, index, value), "parameter " .. index)
end
set (1, 2)   -- two bars
set (4, 2)   -- on channel 2
set (7, 0.1) -- the coldest temperature
set (9, 1)   -- the Markov generator, whose answer to the figure is known exactly

s:request_roll (ARDOUR.TransportRequestSource.TRS_UI)
local started = os.time ()
local function wait_until (sample)
	while s:transport_sample () < sample do
		assert (os.time () - started < 120, "the transport does not roll")
		ARDOUR.LuaAPI.usleep (2000)
	end
end
wait_until (300000)
set (0, 1)   -- Suggest: a rising edge
wait_until (340000)
set (0, 0)
wait_until (620000)
s:request_stop (false, false, ARDOUR.TransportRequestSource.TRS_UI)
ARDOUR.LuaAPI.usleep (500000)

local shm = logger:to_insert ():plugin (0):to_luaproc ():shmem ()
local count = shm:atomic_get_int (0)
local log = shm:to_int (1):array ()
local file = assert (io.open (logfile, "w"))
for i = 0, count - 1 do
	file:write (string.format ("%d %d %d %d\n", log[i * 4 + 1], log[i * 4 + 2], log[i * 4 + 3], log[i * 4 + 4]))
end
file:close ()
close_session ()
quit ()
