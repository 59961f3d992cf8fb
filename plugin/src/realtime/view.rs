//! What the audio thread shows the editor: plain atomics, written once per block, read by the GUI
//! at its own pace. Storing an atomic never allocates, locks or blocks, so `process()` may do it;
//! a reader may see values from two different blocks, which only matters for one frame of drawing.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use atomic_float::AtomicF64;

use continuo_engine::phrase::TimeSignature;

/// The host's musical time and the player's position, as of the last block.
#[derive(Debug)]
pub struct HostView {
    /// Beat position of the last block's start, on the timeline of `host_playing`.
    beat: AtomicF64,
    /// Whether the host transport was playing (the beat is then the song position).
    host_playing: AtomicBool,
    /// Tempo of the last block in BPM.
    tempo: AtomicF64,
    /// Time signature of the last block, numerator and denominator.
    numerator: AtomicU32,
    denominator: AtomicU32,
    /// Beats from the start of the current phrase where the last block began, or NaN when no
    /// phrase plays. Lets the editor draw a playhead through the suggestion, loops included.
    phrase_position: AtomicF64,
    /// Blocks processed so far: if it stops moving, the host is not processing (the editor says
    /// so, because then a Suggest click cannot be picked up).
    blocks: AtomicU64,
    /// Phrases the audio thread took up, and how many of them came after their start and were
    /// moved to the next grid line (the status says how often answers were not ready in time).
    phrases: AtomicU64,
    late_phrases: AtomicU64,
}

impl Default for HostView {
    fn default() -> Self {
        Self {
            beat: AtomicF64::new(0.0),
            host_playing: AtomicBool::new(false),
            tempo: AtomicF64::new(crate::realtime::clock::DEFAULT_TEMPO),
            numerator: AtomicU32::new(4),
            denominator: AtomicU32::new(4),
            phrase_position: AtomicF64::new(f64::NAN),
            blocks: AtomicU64::new(0),
            phrases: AtomicU64::new(0),
            late_phrases: AtomicU64::new(0),
        }
    }
}

/// A consistent-enough copy of [`HostView`] for one frame of drawing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostSnapshot {
    pub beat: f64,
    pub host_playing: bool,
    pub tempo: f64,
    pub time_signature: TimeSignature,
    pub phrase_position: Option<f64>,
    pub blocks: u64,
    /// Phrases taken up, and those of them that came late (moved to the next grid line).
    pub phrases: u64,
    pub late_phrases: u64,
}

impl HostView {
    /// Audio thread: publishes one block's time. Real-time safe (relaxed atomic stores).
    pub fn publish(
        &self,
        beat: f64,
        host_playing: bool,
        tempo: f64,
        time_signature: TimeSignature,
        phrase_position: Option<f64>,
    ) {
        self.beat.store(beat, Ordering::Relaxed);
        self.host_playing.store(host_playing, Ordering::Relaxed);
        self.tempo.store(tempo, Ordering::Relaxed);
        self.numerator
            .store(time_signature.numerator as u32, Ordering::Relaxed);
        self.denominator
            .store(time_signature.denominator as u32, Ordering::Relaxed);
        self.phrase_position
            .store(phrase_position.unwrap_or(f64::NAN), Ordering::Relaxed);
        self.blocks.fetch_add(1, Ordering::Release);
    }

    /// Audio thread: a phrase was taken up; `late` when it came after its start.
    pub fn count_phrase(&self, late: bool) {
        self.phrases.fetch_add(1, Ordering::Relaxed);
        if late {
            self.late_phrases.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// GUI thread: the last published values.
    pub fn snapshot(&self) -> HostSnapshot {
        let position = self.phrase_position.load(Ordering::Relaxed);
        HostSnapshot {
            beat: self.beat.load(Ordering::Relaxed),
            host_playing: self.host_playing.load(Ordering::Relaxed),
            tempo: self.tempo.load(Ordering::Relaxed),
            time_signature: TimeSignature::sanitized(
                self.numerator.load(Ordering::Relaxed) as i32,
                self.denominator.load(Ordering::Relaxed) as i32,
            ),
            phrase_position: position.is_finite().then_some(position),
            blocks: self.blocks.load(Ordering::Acquire),
            phrases: self.phrases.load(Ordering::Relaxed),
            late_phrases: self.late_phrases.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_published_block_reads_back() {
        let view = HostView::default();
        assert_eq!(view.snapshot().phrase_position, None);
        view.publish(12.5, true, 93.0, TimeSignature::sanitized(6, 8), Some(1.25));
        let snap = view.snapshot();
        assert_eq!(snap.beat, 12.5);
        assert!(snap.host_playing);
        assert_eq!(snap.tempo, 93.0);
        assert_eq!(snap.time_signature, TimeSignature::sanitized(6, 8));
        assert_eq!(snap.phrase_position, Some(1.25));
        assert_eq!(snap.blocks, 1);
        view.publish(13.0, false, 93.0, TimeSignature::default(), None);
        assert_eq!(view.snapshot().phrase_position, None);
        view.count_phrase(false);
        view.count_phrase(true);
        assert_eq!(
            (view.snapshot().phrases, view.snapshot().late_phrases),
            (2, 1)
        );
    }
}
