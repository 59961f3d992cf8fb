//! Musical time for one audio block: where it starts in beats, how fast beats pass, and whether
//! time jumped since the previous block.
//!
//! While the host plays, its transport is the clock. While it is stopped, a free-running clock at
//! the host's tempo (or the last known one, else 120 BPM) keeps time, so a musician can jam and
//! ask for continuations with the transport stopped.

use continuo_engine::phrase::TimeSignature;

/// Tempo used before the host has told us any.
pub const DEFAULT_TEMPO: f64 = 120.0;

/// Which clock a beat position belongs to. Positions on different timelines cannot be compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Timeline {
    /// The host's song position while its transport plays.
    Host,
    /// Continuo's own clock while the transport is stopped.
    Free,
}

/// What the clock needs from the host's transport for one block (a plain copy, so the clock can be
/// unit-tested without a host).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TransportInfo {
    pub playing: bool,
    pub tempo: Option<f64>,
    pub time_signature: Option<(i32, i32)>,
    pub pos_beats: Option<f64>,
    pub bar_start_beats: Option<f64>,
}

/// The musical time of one block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockTime {
    pub timeline: Timeline,
    /// Beat position of the block's first sample.
    pub start_beat: f64,
    /// Beats that pass per sample at this block's tempo.
    pub beats_per_sample: f64,
    pub samples: u32,
    pub tempo: f64,
    pub time_signature: TimeSignature,
    /// A beat position at which a bar starts (bars repeat every `time_signature.bar_beats()`).
    pub bar_origin: f64,
    /// True when this block does not continue the previous one: the host relocated or looped, or
    /// the clock switched between host and free-running.
    pub discontinuity: bool,
    /// True when the timeline itself changed (transport started or stopped).
    pub timeline_changed: bool,
}

impl BlockTime {
    /// Beat position just after the block's last sample.
    pub fn end_beat(&self) -> f64 {
        self.start_beat + self.samples as f64 * self.beats_per_sample
    }

    /// Beat position of a sample inside the block.
    pub fn beat_at(&self, sample: u32) -> f64 {
        self.start_beat + sample as f64 * self.beats_per_sample
    }

    /// The sample offset (possibly outside the block) at which `beat` falls, rounded to the
    /// nearest sample.
    pub fn sample_of(&self, beat: f64) -> f64 {
        ((beat - self.start_beat) / self.beats_per_sample).round()
    }

    /// The first bar line at or after `beat`.
    pub fn next_bar_at_or_after(&self, beat: f64) -> f64 {
        next_grid_line(self.bar_origin, self.time_signature.bar_beats(), beat)
    }
}

/// The first line of the grid `origin + k * step` that is at or after `at` (with a tolerance of a
/// billionth of a beat so that a position exactly on a line counts as on it).
pub fn next_grid_line(origin: f64, step: f64, at: f64) -> f64 {
    let k = ((at - origin) / step - 1e-9).ceil();
    origin + k * step
}

/// Tracks time across blocks. Lives in the plugin and is advanced once per `process()` call.
#[derive(Debug, Clone)]
pub struct Clock {
    /// The tempo of the last block, used by the free-running clock when the host gives none.
    last_tempo: f64,
    last_time_signature: TimeSignature,
    last_bar_origin: f64,
    /// Where the next block should start if time runs on without a jump, and on which timeline.
    expected: Option<(Timeline, f64)>,
}

impl Default for Clock {
    fn default() -> Self {
        Self {
            last_tempo: DEFAULT_TEMPO,
            last_time_signature: TimeSignature::default(),
            last_bar_origin: 0.0,
            expected: None,
        }
    }
}

impl Clock {
    /// Forgets continuity, so the next block counts as a discontinuity (after reset/activation).
    pub fn reset(&mut self) {
        self.expected = None;
    }

    /// Computes the time of a block of `samples` samples and remembers where the next one starts.
    pub fn advance(
        &mut self,
        transport: &TransportInfo,
        samples: u32,
        sample_rate: f32,
    ) -> BlockTime {
        let tempo = transport
            .tempo
            .filter(|t| t.is_finite() && *t >= 1.0 && *t <= 2000.0)
            .unwrap_or(self.last_tempo);
        let time_signature = transport
            .time_signature
            .map(|(n, d)| TimeSignature::sanitized(n, d))
            .unwrap_or(self.last_time_signature);
        let sample_rate = if sample_rate.is_finite() && sample_rate > 0.0 {
            sample_rate as f64
        } else {
            48_000.0
        };
        let beats_per_sample = tempo / 60.0 / sample_rate;

        let host_position = transport.pos_beats.filter(|p| p.is_finite());
        let (timeline, start_beat, bar_origin) = match (transport.playing, host_position) {
            (true, Some(position)) => {
                let bar_origin = transport
                    .bar_start_beats
                    .filter(|b| b.is_finite())
                    .unwrap_or(0.0);
                (Timeline::Host, position, bar_origin)
            }
            _ => {
                // Free-running: continue from where time was expected to be, whatever timeline.
                let start = self.expected.map_or(0.0, |(_, beat)| beat);
                (Timeline::Free, start, self.last_bar_origin)
            }
        };

        let (discontinuity, timeline_changed) = match self.expected {
            None => (true, true),
            Some((expected_timeline, _)) if expected_timeline != timeline => (true, true),
            Some((_, expected_beat)) => {
                // Hosts round positions; anything within a sample and a half is continuous.
                let tolerance = 1.5 * beats_per_sample + 1e-9;
                ((start_beat - expected_beat).abs() > tolerance, false)
            }
        };

        let time = BlockTime {
            timeline,
            start_beat,
            beats_per_sample,
            samples,
            tempo,
            time_signature,
            bar_origin,
            discontinuity,
            timeline_changed,
        };
        self.last_tempo = tempo;
        self.last_time_signature = time_signature;
        self.last_bar_origin = bar_origin;
        self.expected = Some((timeline, time.end_beat()));
        time
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn playing_at(beats: f64, tempo: f64) -> TransportInfo {
        TransportInfo {
            playing: true,
            tempo: Some(tempo),
            time_signature: Some((4, 4)),
            pos_beats: Some(beats),
            bar_start_beats: Some((beats / 4.0).floor() * 4.0),
        }
    }

    #[test]
    fn beats_and_samples_convert_exactly_at_120_bpm_48k() {
        let mut clock = Clock::default();
        let time = clock.advance(&playing_at(2.0, 120.0), 512, 48_000.0);
        // One beat is 24000 samples; a 1/12 beat is 2000 samples.
        assert_eq!(time.beats_per_sample, 1.0 / 24_000.0);
        assert_eq!(time.sample_of(2.0 + 1.0 / 12.0), 2000.0);
        assert_eq!(time.sample_of(2.0), 0.0);
        assert_eq!(time.beat_at(24_000), 3.0);
        assert_eq!(time.end_beat(), 2.0 + 512.0 / 24_000.0);
        assert_eq!(time.next_bar_at_or_after(2.0), 4.0);
        assert_eq!(time.next_bar_at_or_after(4.0), 4.0);
    }

    #[test]
    fn detects_relocation_but_not_continuity_or_rounding() {
        let mut clock = Clock::default();
        let first = clock.advance(&playing_at(0.0, 120.0), 480, 48_000.0);
        assert!(first.discontinuity, "the first block starts a timeline");
        let next = clock.advance(&playing_at(0.02, 120.0), 480, 48_000.0);
        assert!(!next.discontinuity);
        // Host rounding by a fraction of a sample is not a jump.
        let jitter = clock.advance(&playing_at(0.04 + 0.5 / 24_000.0, 120.0), 480, 48_000.0);
        assert!(!jitter.discontinuity);
        let jump = clock.advance(&playing_at(16.0, 120.0), 480, 48_000.0);
        assert!(jump.discontinuity && !jump.timeline_changed);
    }

    #[test]
    fn free_runs_while_stopped_at_the_last_tempo() {
        let mut clock = Clock::default();
        clock.advance(&playing_at(8.0, 90.0), 1000, 48_000.0);
        let stopped = TransportInfo {
            playing: false,
            ..TransportInfo::default()
        };
        let a = clock.advance(&stopped, 1000, 48_000.0);
        assert_eq!(a.timeline, Timeline::Free);
        assert!(a.discontinuity && a.timeline_changed);
        assert_eq!(a.tempo, 90.0);
        let expected_start = 8.0 + 1000.0 * 90.0 / 60.0 / 48_000.0;
        assert!((a.start_beat - expected_start).abs() < 1e-12);
        let b = clock.advance(&stopped, 1000, 48_000.0);
        assert!(!b.discontinuity);
        assert!((b.start_beat - a.end_beat()).abs() < 1e-12);
    }

    #[test]
    fn a_fresh_clock_defaults_to_120_bpm_and_rejects_nonsense() {
        let mut clock = Clock::default();
        let nonsense = TransportInfo {
            playing: true,
            tempo: Some(f64::NAN),
            time_signature: Some((0, 0)),
            pos_beats: Some(f64::INFINITY),
            bar_start_beats: None,
        };
        let time = clock.advance(&nonsense, 64, 0.0);
        assert_eq!(time.tempo, DEFAULT_TEMPO);
        assert_eq!(time.timeline, Timeline::Free);
        assert_eq!(time.time_signature, TimeSignature::default());
        assert!(time.beats_per_sample.is_finite() && time.beats_per_sample > 0.0);
    }

    #[test]
    fn grid_lines() {
        assert_eq!(next_grid_line(0.0, 4.0, 0.0), 0.0);
        assert_eq!(next_grid_line(0.0, 4.0, 0.001), 4.0);
        assert_eq!(next_grid_line(1.0, 3.0, 5.5), 7.0);
        assert_eq!(next_grid_line(0.0, 1.0, -2.5), -2.0);
    }
}
