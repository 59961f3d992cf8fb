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
/// unit-tested without a host). Positions are what the host itself reported, not values derived
/// from one another: the clock decides which to trust.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TransportInfo {
    pub playing: bool,
    pub tempo: Option<f64>,
    pub time_signature: Option<(i32, i32)>,
    /// The host's song position in samples (VST3's `projectTimeSamples`, CLAP's seconds
    /// timeline): exact where present.
    pub pos_samples: Option<i64>,
    /// The host's song position in quarter notes, as the host reports it: many hosts round it to
    /// their own tick grid (Ardour to 1/1920 of a beat), so it is a reference, not the truth.
    pub pos_beats: Option<f64>,
    /// The beat at which the current bar starts, from the host or derived from its position.
    pub bar_start_beats: Option<f64>,
    /// The host's loop (cycle) range in beats while it is active.
    pub loop_range_beats: Option<(f64, f64)>,
}

/// The musical time of one block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockTime {
    pub timeline: Timeline,
    /// Beat position of the block's first sample.
    pub start_beat: f64,
    /// Beats that pass per sample in this block.
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

/// How far the host's beat position may stray from the clock's own before it counts as a jump:
/// four ticks of a 960-per-quarter host (about 2 ms at 120 BPM). Hosts round positions to their
/// tick grid (Ardour: 1/1920 beat, i.e. 12.5 samples at 120 BPM and 48 kHz; others 1/960), so a
/// tighter bound sees jumps that are not there; no musical relocation is this small.
pub const JUMP_TOLERANCE_BEATS: f64 = 4.0 / 960.0;

/// How far the host's beat position may stray before the clock steers toward it (a tick of a
/// 960-per-quarter host, more than any host's rounding). Below it the clock trusts its own exact
/// count of samples; above it (the host integrates a tempo ramp differently, say) the next block
/// runs a little faster or slower until the two agree again, without a jump.
pub const DRIFT_DEADBAND_BEATS: f64 = 1.0 / 960.0;

/// Where the clock expects the next block to start if time runs on.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Expected {
    timeline: Timeline,
    /// The beat just after the previous block, on the clock's own count.
    beat: f64,
    /// The host's sample position the next block should have, if the host gives one.
    samples: Option<i64>,
}

/// Tracks time across blocks. Lives in the plugin and is advanced once per `process()` call.
///
/// While the host plays, consecutive blocks are joined exactly: a block that continues the
/// previous one starts where that one ended, counted in samples at the host's tempo, so notes
/// land on their exact samples and keep their lengths whatever the host's position rounding.
/// The host's sample position (exact) and beat position (within [`JUMP_TOLERANCE_BEATS`]) are
/// checked against that count, and either disagreeing is a real jump (relocation, loop).
#[derive(Debug, Clone)]
pub struct Clock {
    /// The tempo of the last block, used by the free-running clock when the host gives none.
    last_tempo: f64,
    last_time_signature: TimeSignature,
    last_bar_origin: f64,
    /// Where the next block should start if time runs on without a jump, and on which timeline.
    expected: Option<Expected>,
    /// The rest of the last block after the host's loop sent time back inside it, if it did.
    wrapped: Option<BlockTime>,
}

impl Default for Clock {
    fn default() -> Self {
        Self {
            last_tempo: DEFAULT_TEMPO,
            last_time_signature: TimeSignature::default(),
            last_bar_origin: 0.0,
            expected: None,
            wrapped: None,
        }
    }
}

/// The distance from `value` to the nearest multiple of `period`.
fn distance_to_multiple(value: f64, period: f64) -> f64 {
    let rest = value.rem_euclid(period);
    rest.min(period - rest)
}

/// Where a host loop sends time back inside a block.
struct LoopWrap {
    /// The first sample at or after the loop's end (inside the block, never its first sample).
    sample: u32,
    /// The beat that sample plays at: as far past the loop's start as it is past the loop's end.
    resume_beat: f64,
}

/// Whether the block crosses the end of an active host loop, and where. Hosts that split their
/// blocks at the loop's end never produce one; those that do not report the loop and wrap inside.
fn loop_wrap(time: &BlockTime, loop_range: Option<(f64, f64)>) -> Option<LoopWrap> {
    let (start, end) = loop_range?;
    if !(start.is_finite() && end.is_finite() && end - start > JUMP_TOLERANCE_BEATS) {
        return None;
    }
    if time.start_beat >= end - 1e-9 || time.end_beat() <= end + 1e-9 {
        return None;
    }
    // A thousandth of a sample of slack: a loop end that hosts carry in fixed point (CLAP: 2^-31
    // beat) lands on the sample it was set on.
    let sample = ((end - time.start_beat) / time.beats_per_sample - 1e-3).ceil() as u32;
    (sample > 0 && sample < time.samples).then(|| LoopWrap {
        sample,
        resume_beat: start + (time.beat_at(sample) - end),
    })
}

impl Clock {
    /// Forgets continuity, so the next block counts as a discontinuity (after reset/activation).
    pub fn reset(&mut self) {
        self.expected = None;
        self.wrapped = None;
    }

    /// The rest of the block that the last [`Clock::advance`] cut short because the host's loop
    /// wraps inside it: from the sample after the loop's end on, back at the loop's start (a
    /// discontinuity). `None` when the block ran straight through.
    pub fn take_wrap(&mut self) -> Option<BlockTime> {
        self.wrapped.take()
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
        let bar_beats = time_signature.bar_beats();

        let host_beat = transport.pos_beats.filter(|p| p.is_finite());
        let host_samples = transport.pos_samples;
        let on_host = transport.playing && (host_beat.is_some() || host_samples.is_some());
        let timeline = if on_host {
            Timeline::Host
        } else {
            Timeline::Free
        };

        let mut block_beats_per_sample = beats_per_sample;
        let (start_beat, discontinuity, timeline_changed) = match self.expected {
            None => (None, true, true),
            Some(expected) if expected.timeline != timeline => (None, true, true),
            Some(expected) if timeline == Timeline::Free => (Some(expected.beat), false, false),
            Some(expected) => {
                let samples_agree = match (host_samples, expected.samples) {
                    // Positions from a seconds timeline may be a sample off after rounding.
                    (Some(host), Some(ours)) => (host - ours).abs() <= 1,
                    _ => true,
                };
                let deviation = host_beat.map_or(0.0, |beat| beat - expected.beat);
                let beats_agree = deviation.abs() <= JUMP_TOLERANCE_BEATS + 1.5 * beats_per_sample;
                if samples_agree && beats_agree {
                    // Steer toward the host's beat count only when it is clearly elsewhere.
                    let excess = deviation.abs() - DRIFT_DEADBAND_BEATS;
                    if excess > 0.0 && samples > 0 {
                        // At most a tenth faster or slower than the tempo: never audible.
                        let most = 0.1 * samples as f64 * beats_per_sample;
                        let correction = (excess * deviation.signum()).clamp(-most, most);
                        block_beats_per_sample += correction / samples as f64;
                    }
                    (Some(expected.beat), false, false)
                } else {
                    (None, true, false)
                }
            }
        };
        let start_beat = start_beat.unwrap_or_else(|| match (timeline, host_beat, host_samples) {
            (Timeline::Host, Some(beat), _) => beat,
            (Timeline::Host, None, Some(position)) => position as f64 * beats_per_sample,
            // Free-running: continue from where time was expected to be, whatever timeline.
            _ => self.expected.map_or(0.0, |e| e.beat),
        });

        let bar_origin = match timeline {
            Timeline::Free => self.last_bar_origin,
            Timeline::Host => {
                let host_origin = transport.bar_start_beats.filter(|b| b.is_finite());
                let same_grid = |origin: f64| {
                    distance_to_multiple(origin - self.last_bar_origin, bar_beats)
                        <= JUMP_TOLERANCE_BEATS
                };
                if !discontinuity
                    && time_signature == self.last_time_signature
                    && host_origin.is_none_or(same_grid)
                {
                    // Keep the bar grid exact: a host's rounded bar start does not move it.
                    self.last_bar_origin
                } else {
                    host_origin.unwrap_or_else(|| (start_beat / bar_beats).floor() * bar_beats)
                }
            }
        };

        let mut time = BlockTime {
            timeline,
            start_beat,
            beats_per_sample: block_beats_per_sample,
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
        self.expected = Some(Expected {
            timeline,
            beat: time.end_beat(),
            samples: host_samples
                .filter(|_| timeline == Timeline::Host)
                .map(|p| p + samples as i64),
        });
        self.wrapped = None;
        if timeline == Timeline::Host {
            if let Some(wrap) = loop_wrap(&time, transport.loop_range_beats) {
                let rest = BlockTime {
                    start_beat: wrap.resume_beat,
                    samples: samples - wrap.sample,
                    discontinuity: true,
                    timeline_changed: false,
                    ..time
                };
                time.samples = wrap.sample;
                // The host's sample position jumps back with its loop: only beats can tell
                // whether the next block continues the wrapped time.
                self.expected = Some(Expected {
                    timeline,
                    beat: rest.end_beat(),
                    samples: None,
                });
                self.wrapped = Some(rest);
            }
        }
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
            pos_samples: None,
            pos_beats: Some(beats),
            bar_start_beats: Some((beats / 4.0).floor() * 4.0),
            loop_range_beats: None,
        }
    }

    /// A host at 120 BPM and 48 kHz whose beat position is rounded to `ppq` ticks per quarter
    /// note (Ardour: 1,920), with its exact sample position, as VST3 hosts report both.
    fn rounded_host(position: u64, ppq: f64) -> TransportInfo {
        let exact = position as f64 / 24_000.0;
        let rounded = (exact * ppq).round() / ppq;
        TransportInfo {
            pos_samples: Some(position as i64),
            ..playing_at(rounded, 120.0)
        }
    }

    /// Block sizes that vary from block to block, 16 to 4,096 samples.
    fn varying_blocks() -> impl Iterator<Item = u32> {
        [
            16u32, 4096, 100, 1024, 256, 17, 800, 2048, 64, 333, 512, 4000,
        ]
        .into_iter()
        .cycle()
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
            pos_samples: None,
            pos_beats: Some(f64::INFINITY),
            bar_start_beats: None,
            loop_range_beats: None,
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

    #[test]
    fn tick_rounded_positions_are_continuous_and_exact() {
        for ppq in [1_920.0, 960.0, 480.0] {
            let mut clock = Clock::default();
            let mut position = 0u64;
            for (n, block) in varying_blocks().take(2_000).enumerate() {
                let time = clock.advance(&rounded_host(position, ppq), block, 48_000.0);
                assert_eq!(
                    time.discontinuity,
                    n == 0,
                    "block {n} at {position}, {ppq} ppq"
                );
                // The clock's beat is the exact one, not the host's rounded one.
                assert!(
                    (time.start_beat - position as f64 / 24_000.0).abs() < 1e-9,
                    "{ppq} ppq: {} at sample {position}",
                    time.start_beat
                );
                assert_eq!(time.bar_origin, 0.0);
                position += block as u64;
            }
        }
    }

    #[test]
    fn a_real_jump_is_caught_at_once_whatever_the_source() {
        // By the sample position alone, the beat position alone, or both; even a short one.
        let sources: [fn(TransportInfo) -> TransportInfo; 3] = [
            |t| t,
            |t| TransportInfo {
                pos_beats: None,
                ..t
            },
            |t| TransportInfo {
                pos_samples: None,
                ..t
            },
        ];
        for source in sources {
            let mut clock = Clock::default();
            let mut position = 0u64;
            for _ in 0..40 {
                let time = clock.advance(&source(rounded_host(position, 1_920.0)), 256, 48_000.0);
                position += 256;
                assert!(position == 256 || !time.discontinuity);
            }
            // Back by a sixteenth (6,000 samples): a loop of a sixteenth is still a jump.
            position -= 6_000;
            let time = clock.advance(&source(rounded_host(position, 1_920.0)), 256, 48_000.0);
            assert!(time.discontinuity && !time.timeline_changed);
            assert!((time.start_beat - position as f64 / 24_000.0).abs() < 1.0 / 1_920.0);
        }
    }

    #[test]
    fn positions_in_samples_only_follow_tempo_changes() {
        let mut clock = Clock::default();
        let only_samples = |position: i64, tempo: f64| TransportInfo {
            playing: true,
            tempo: Some(tempo),
            time_signature: Some((4, 4)),
            pos_samples: Some(position),
            pos_beats: None,
            bar_start_beats: None,
            loop_range_beats: None,
        };
        let first = clock.advance(&only_samples(48_000, 120.0), 48_000, 48_000.0);
        assert_eq!(first.start_beat, 2.0);
        // At beat 4 the tempo halves: the next second is one beat, not two.
        let second = clock.advance(&only_samples(96_000, 60.0), 48_000, 48_000.0);
        assert!(!second.discontinuity);
        assert_eq!(second.start_beat, 4.0);
        let third = clock.advance(&only_samples(144_000, 60.0), 1_000, 48_000.0);
        assert!(!third.discontinuity);
        assert_eq!(third.start_beat, 5.0);
        assert_eq!(third.bar_origin, 0.0);
    }

    #[test]
    fn a_tempo_ramp_counted_by_the_host_never_looks_like_a_jump() {
        // The host integrates its tempo within each block (120 → 180 BPM over 30 s); the clock
        // counts each block at its starting tempo and steers toward the host without jumps.
        let mut clock = Clock::default();
        let (mut beats, mut position) = (0.0f64, 0i64);
        let mut previous_end: Option<f64> = None;
        for (n, block) in varying_blocks().take(1_500).enumerate() {
            let tempo = 120.0 + 60.0 * (position as f64 / 48_000.0 / 30.0).min(1.0);
            let transport = TransportInfo {
                pos_samples: Some(position),
                ..playing_at((beats * 1_920.0).round() / 1_920.0, tempo)
            };
            let time = clock.advance(&transport, block, 48_000.0);
            assert_eq!(time.discontinuity, n == 0, "block {n}");
            if let Some(end) = previous_end {
                assert_eq!(time.start_beat, end, "blocks join exactly");
            }
            assert!((time.start_beat - beats).abs() < 2.0 / 960.0, "block {n}");
            previous_end = Some(time.end_beat());
            // The host's exact integration of a tempo that rises within the block.
            let next_tempo =
                120.0 + 60.0 * ((position + block as i64) as f64 / 48_000.0 / 30.0).min(1.0);
            beats += block as f64 * (tempo + next_tempo) / 2.0 / 60.0 / 48_000.0;
            position += block as i64;
        }
    }

    #[test]
    fn the_bar_grid_holds_when_the_host_rounds_or_omits_its_bar_start() {
        let mut clock = Clock::default();
        let at = |beats: f64, bar: Option<f64>| TransportInfo {
            bar_start_beats: bar,
            ..playing_at(beats, 120.0)
        };
        assert_eq!(
            clock
                .advance(&at(1.0, Some(0.0)), 2_400, 48_000.0)
                .bar_origin,
            0.0
        );
        // A bar start rounded to the host's ticks does not move the grid.
        let rounded = clock.advance(&at(1.1, Some(4.0 + 1.0 / 1_920.0)), 2_400, 48_000.0);
        assert_eq!(rounded.bar_origin, 0.0);
        // No bar start at all after a relocation: bars count from the song's start.
        let jumped = clock.advance(&at(9.5, None), 2_400, 48_000.0);
        assert!(jumped.discontinuity);
        assert_eq!(jumped.bar_origin, 8.0);
        // A meter change takes the host's bar line.
        let three = TransportInfo {
            time_signature: Some((3, 4)),
            ..at(9.6, Some(9.0))
        };
        assert_eq!(clock.advance(&three, 2_400, 48_000.0).bar_origin, 9.0);
    }

    #[test]
    fn a_loop_that_wraps_inside_a_block_splits_it_at_the_loop_end() {
        let mut clock = Clock::default();
        let looping = |beats: f64| TransportInfo {
            loop_range_beats: Some((4.0, 8.0)),
            ..playing_at(beats, 120.0)
        };
        // 7.9 + 4,800 samples (0.2 beat) crosses beat 8 after 2,400 samples.
        clock.advance(&looping(7.8), 2_400, 48_000.0);
        let first = clock.advance(&looping(7.9), 4_800, 48_000.0);
        assert!(!first.discontinuity);
        assert_eq!(first.samples, 2_400);
        let rest = clock.take_wrap().expect("the loop wraps inside the block");
        assert!(rest.discontinuity && !rest.timeline_changed);
        assert_eq!(rest.samples, 2_400);
        assert!((rest.start_beat - 4.0).abs() < 1e-12);
        assert_eq!(clock.take_wrap(), None);
        // The host's next block starts where the wrapped time went on: no jump.
        let next = clock.advance(&looping(4.1), 480, 48_000.0);
        assert!(!next.discontinuity);
        assert!(clock.take_wrap().is_none());
        // A block that ends exactly at the loop's end does not wrap inside.
        let mut clock = Clock::default();
        clock.advance(&looping(7.9), 2_400, 48_000.0);
        assert!(clock.take_wrap().is_none());
    }
}
