//! Many instances in one process (a DAW project with many tracks), all asking for a suggestion
//! at once: no deadlock, every instance answers, and the time and memory are reported.
//! `cargo xtask test` runs 8 instances; `cargo xtask stress` runs 32 (`CONTINUO_INSTANCES`).

use std::time::{Duration, Instant};

use continuo_host_tests::{notes, Daw, In, Out};

fn resident_megabytes() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[test]
fn many_instances_all_answer_at_once() {
    let instances: usize = std::env::var("CONTINUO_INSTANCES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(8);
    let before = resident_megabytes();
    let started = Instant::now();
    let mut daws: Vec<Daw> = (0..instances).map(|_| Daw::new(512)).collect();
    // Each plays C D E F G in quarters (a different octave per instance) with its own generator.
    for (i, daw) in daws.iter_mut().enumerate() {
        let base = 48 + (i % 4) as u8 * 12;
        let mut input = vec![
            (0, In::Param("length", 1.0)),
            (0, In::Param("out-channel", 1.0)),
        ];
        let keys: Vec<u8> = [0u8, 2, 4, 5, 7, 5, 4, 2].map(|step| base + step).to_vec();
        input.extend(notes(&keys, 24_000, 20_000, 0.7));
        input.sort_by_key(|(at, _)| *at);
        daw.run(200_000, &input);
    }
    let loaded = resident_megabytes();
    // All trigger in the same block.
    let trigger = Instant::now();
    for daw in daws.iter_mut() {
        daw.run(512, &[(daw.position, In::Param("suggest", 1.0))]);
    }
    // Keep processing (as a host does) until every instance has played a note of its phrase, or
    // give up after 60 s (that would be a deadlock or a starved worker).
    let mut answered = vec![false; instances];
    while answered.iter().any(|a| !a) {
        assert!(
            trigger.elapsed() < Duration::from_secs(60),
            "instances without an answer after 60 s: {:?}",
            answered
                .iter()
                .enumerate()
                .filter(|(_, a)| !**a)
                .map(|(i, _)| i)
                .collect::<Vec<_>>()
        );
        for (i, daw) in daws.iter_mut().enumerate() {
            let events = daw.run(4_800, &[(daw.position, In::Param("suggest", 0.0))]);
            if events
                .iter()
                .any(|(_, e)| matches!(e, Out::NoteOn { channel: 1, .. }))
            {
                answered[i] = true;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let answer_time = trigger.elapsed();
    let after = resident_megabytes();
    drop(daws);
    println!(
        "{instances} instances: set-up {:.2} s, all answered within {:.2} s of one simultaneous \
         Suggest; resident memory {before:.0} MB before, {loaded:.0} MB after set-up (models \
         still loading), {after:.0} MB after answering ({:.1} MB per instance)",
        (trigger - started).as_secs_f64(),
        answer_time.as_secs_f64(),
        (after - before) / instances as f64,
    );
}
