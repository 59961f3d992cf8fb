//! Bookkeeping of which notes are sounding, so that every note the plugin started is ended and no
//! note-off is ever sent for a note that was not started.

/// Counts of started-but-not-ended notes per MIDI channel and key. A fixed 2 KiB table: constant
/// cost, no allocation.
#[derive(Clone)]
pub struct NoteTracker {
    counts: [[u8; 128]; 16],
    /// Number of (channel, key) pairs with a non-zero count, so "nothing sounds" is O(1).
    sounding: u16,
}

impl Default for NoteTracker {
    fn default() -> Self {
        Self {
            counts: [[0; 128]; 16],
            sounding: 0,
        }
    }
}

impl NoteTracker {
    pub fn note_on(&mut self, channel: u8, key: u8) {
        let count = &mut self.counts[(channel & 15) as usize][(key & 127) as usize];
        if *count == 0 {
            self.sounding += 1;
        }
        *count = count.saturating_add(1);
    }

    /// Records a note-off. Returns false (and changes nothing) when the note was not sounding, in
    /// which case the note-off must not be sent.
    pub fn note_off(&mut self, channel: u8, key: u8) -> bool {
        let count = &mut self.counts[(channel & 15) as usize][(key & 127) as usize];
        if *count == 0 {
            return false;
        }
        *count -= 1;
        if *count == 0 {
            self.sounding -= 1;
        }
        true
    }

    pub fn is_sounding(&self, channel: u8, key: u8) -> bool {
        self.counts[(channel & 15) as usize][(key & 127) as usize] > 0
    }

    pub fn any_sounding(&self) -> bool {
        self.sounding > 0
    }

    /// Ends everything: calls `send(channel, key)` once per sounding (channel, key) for each time
    /// it was started, and forgets the notes for which `send` returns true. A note whose note-off
    /// could not be delivered stays tracked so that it is retried.
    pub fn drain(&mut self, mut send: impl FnMut(u8, u8) -> bool) {
        if self.sounding == 0 {
            return;
        }
        for channel in 0..16u8 {
            for key in 0..128u8 {
                while self.counts[channel as usize][key as usize] > 0 {
                    if !send(channel, key) {
                        break;
                    }
                    self.note_off(channel, key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_and_drains() {
        let mut tracker = NoteTracker::default();
        assert!(!tracker.note_off(0, 60), "no note-off without its note-on");
        tracker.note_on(0, 60);
        tracker.note_on(0, 60);
        tracker.note_on(3, 64);
        assert!(tracker.any_sounding());
        assert!(tracker.note_off(0, 60));
        assert!(tracker.is_sounding(0, 60));
        let mut ended = Vec::new();
        tracker.drain(|channel, key| {
            ended.push((channel, key));
            true
        });
        assert_eq!(ended, vec![(0, 60), (3, 64)]);
        assert!(!tracker.any_sounding());
    }

    #[test]
    fn undelivered_note_offs_are_kept_for_a_retry() {
        let mut tracker = NoteTracker::default();
        tracker.note_on(1, 10);
        tracker.drain(|_, _| false);
        assert!(tracker.is_sounding(1, 10));
        tracker.drain(|_, _| true);
        assert!(!tracker.any_sounding());
    }
}
