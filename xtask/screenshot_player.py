"""Plays the first eight bars of Ode to Joy into a JACK MIDI port at 120 BPM, as a musician at a
keyboard would, for `cargo xtask screenshot` (needs the JACK-Client package from PyPI).

    python screenshot_player.py continuo:midi_input
"""
import sys, time, threading
import jack

BPM = 120.0
# Ode to Joy, first 8 bars (beats, pitch, length in beats)
TUNE = [64,64,65,67, 67,65,64,62, 60,60,62,64, 64,62,62, 64,64,65,67, 67,65,64,62, 60,60,62,64, 62,60,60]
LENS = [1,1,1,1, 1,1,1,1, 1,1,1,1, 1.5,0.5,2, 1,1,1,1, 1,1,1,1, 1,1,1,1, 1.5,0.5,2]
events = []
beat = 0.0
for p, l in zip(TUNE, LENS):
    events.append((beat, bytes([0x90, p, 96])))
    events.append((beat + l * 0.9, bytes([0x80, p, 0])))
    beat += l
events.sort(key=lambda e: e[0])

client = jack.Client("player")
port = client.midi_outports.register("out")
start_frame = None
index = 0
lock = threading.Lock()

@client.set_process_callback
def process(frames):
    global start_frame, index
    port.clear_buffer()
    now = client.last_frame_time
    if start_frame is None:
        start_frame = now + client.samplerate  # one second of lead-in
    spb = client.samplerate * 60.0 / BPM
    while index < len(events):
        at = start_frame + int(events[index][0] * spb)
        if at >= now + frames:
            break
        port.write_midi_event(max(0, at - now), events[index][1])
        index += 1

with client:
    target = sys.argv[1] if len(sys.argv) > 1 else None
    if target:
        client.connect(port, target)
    print("ports:", [p.name for p in client.get_ports(is_midi=True)], flush=True)
    while index < len(events):
        time.sleep(0.05)
    time.sleep(0.5)
    print("played", len(events), "events", flush=True)
