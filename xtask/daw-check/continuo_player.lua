ardour {
	["type"]    = "dsp",
	name        = "Continuo Test Player",
	category    = "Utility",
	license     = "GPL-3.0-or-later",
	author      = "Continuo developers",
	description = [[For cargo xtask daw-check: plays a fixed figure at exact song positions (samples) while the transport rolls]]
}

function dsp_ioconfig ()
	return { { midi_in = 1, midi_out = 1, audio_in = 0, audio_out = 0 }, }
end

-- { sample, status, key, velocity }, sorted by sample.
local events = {}

function dsp_init (rate)
	-- The figure C D E F G F E D in eighths at 120 BPM and 48 kHz (12,000 samples apart), three
	-- times, each note held 10,000 samples, velocity 100, on channel 1 (the same as the CLAP host
	-- tests and the check in xtask/src/daw_check.rs).
	local figure = { 60, 62, 64, 65, 67, 65, 64, 62 }
	for k = 0, 23 do
		local key = figure[(k % 8) + 1]
		local on = k * 12000
		table.insert (events, { on, 0x90, key, 100 })
		table.insert (events, { on + 10000, 0x80, key, 0 })
	end
	table.sort (events, function (a, b) return a[1] < b[1] end)
end

function dsp_run (_, _, n_samples)
	-- Ardour 7 gives DSP scripts the session: the playhead at this cycle's start.
	if not Session:transport_rolling () then return end
	local from = Session:transport_sample ()
	local count = 1
	for _, e in ipairs (events) do
		if e[1] >= from and e[1] < from + n_samples then
			midiout[count] = { time = e[1] - from + 1, data = { e[2], e[3], e[4] } }
			count = count + 1
		end
	end
end
