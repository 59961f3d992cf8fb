//! The cost of Continuo's `process()` as a host sees it: one 512-sample block at 48 kHz with 16
//! incoming note events, through the real CLAP binary. Three cases: bypassed (everything passes
//! untouched: the floor set by the wrapper and the host harness), active with nothing playing,
//! and active while a dense looped phrase plays.

use criterion::{criterion_group, criterion_main, Criterion};

use continuo_host_tests::{Daw, In};

const BLOCK: u32 = 512;

/// 16 note events (8 notes) spread over one block, positioned relative to `start`.
fn sixteen_events(start: u64) -> Vec<(u64, In)> {
    let mut events = Vec::new();
    for i in 0..8u64 {
        let key = 60 + i as u8;
        events.push((
            start + i * 60,
            In::NoteOn {
                channel: 0,
                key,
                velocity: 0.7,
            },
        ));
        events.push((start + i * 60 + 30, In::NoteOff { channel: 0, key }));
    }
    events
}

fn daw_with(setup: &[(u64, In)], suggest: bool) -> Daw {
    let mut daw = Daw::new(BLOCK);
    let mut input = setup.to_vec();
    // The Markov generator answers at once and predictably; the generator does not change what
    // process() costs.
    input.push((0, In::Param("generator", 1.0)));
    // A few bars of sixteenth notes, so a suggestion is dense.
    for i in 0..64u64 {
        let key = [60, 62, 64, 67][(i % 4) as usize];
        input.push((
            1_000 + i * 6_000,
            In::NoteOn {
                channel: 0,
                key,
                velocity: 0.8,
            },
        ));
        input.push((1_000 + i * 6_000 + 5_000, In::NoteOff { channel: 0, key }));
    }
    if suggest {
        input.push((400_000, In::Param("suggest", 1.0)));
    }
    input.sort_by_key(|(at, _)| *at);
    daw.run(400_000 + BLOCK as u64, &input);
    if suggest {
        daw.let_worker_answer();
    }
    // Play into the phrase (it starts at the next bar, beat 20 = sample 480000).
    let out = daw.run(100_000, &[(daw.position, In::Param("suggest", 0.0))]);
    if suggest {
        // No notes are played in this stretch: every note-on is the phrase's.
        assert!(
            out.iter()
                .any(|(_, e)| matches!(e, continuo_host_tests::Out::NoteOn { .. })),
            "the phrase should be playing before the measurement"
        );
    }
    daw
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("process_512_samples_16_events");
    // (name, parameter setup, whether to ask for a phrase)
    type Case = (&'static str, Vec<(u64, In)>, bool);
    let cases: [Case; 3] = [
        (
            "bypassed_pass_through",
            vec![(0, In::Param("bypass", 1.0))],
            false,
        ),
        ("active_idle", vec![(0, In::Param("play-mode", 0.0))], false),
        (
            "active_playing_loop",
            vec![
                (0, In::Param("play-mode", 2.0)),
                (0, In::Param("length", 15.0)),
            ],
            true,
        ),
    ];
    for (name, setup, suggest) in cases {
        let mut daw = daw_with(&setup, suggest);
        group.bench_function(name, |b| {
            // Building the 16 input events is part of every case alike.
            b.iter(|| {
                let events = sixteen_events(daw.position);
                daw.run(BLOCK as u64, &events)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
