ardour {
	["type"]    = "dsp",
	name        = "Continuo Test Logger",
	category    = "Utility",
	license     = "GPL-3.0-or-later",
	author      = "Continuo developers",
	description = [[For cargo xtask daw-check: records every MIDI event with its song position (samples) in shared memory, and passes it on]]
}

function dsp_ioconfig ()
	return { { midi_in = 1, midi_out = 1, audio_in = 0, audio_out = 0 }, }
end

local capacity = 4096

function dsp_init (rate)
	-- Slot 0: events logged; then 4 integers an event: sample, status, key, velocity.
	self:shmem ():allocate (1 + 4 * capacity)
	self:shmem ():atomic_set_int (0, 0)
end

function dsp_run (_, _, n_samples)
	local count = self:shmem ():atomic_get_int (0)
	local log = self:shmem ():to_int (1):array ()
	local out = 1
	for _, event in ipairs (midiin) do
		local data = event["data"]
		midiout[out] = { time = event["time"], data = data }
		out = out + 1
		if count < capacity and Session:transport_rolling () then
			log[count * 4 + 1] = Session:transport_sample () + event["time"] - 1
			log[count * 4 + 2] = data[1]
			log[count * 4 + 3] = data[2] or 0
			log[count * 4 + 4] = data[3] or 0
			count = count + 1
		end
	end
	self:shmem ():atomic_set_int (0, count)
end
