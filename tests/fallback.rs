//! With ONNX Runtime missing, the plugin still answers: the Markov generator stands in.
//! (Its own process, because ONNX Runtime is loaded once per process.)

use continuo_host_tests::{assert_balanced, Daw, In, Out};

#[test]
fn a_missing_runtime_falls_back_to_markov() {
    // The only test in this binary, so no other thread reads the environment meanwhile.
    std::env::set_var("CONTINUO_ORT_PATH", "/nonexistent/libonnxruntime.so.1.31.1");
    let mut daw = Daw::new(512);
    let mut input = vec![
        (0, In::Param("temperature", 0.0)),
        (0, In::Param("length", 0.0)),    // one bar
        (0, In::Param("generator", 0.0)), // ask for the neural model
    ];
    // C E G C in quarters, twice.
    for (i, key) in [60u8, 64, 67, 72, 60, 64, 67, 72].into_iter().enumerate() {
        let on = i as u64 * 24_000;
        input.push((
            on,
            In::NoteOn {
                channel: 0,
                key,
                velocity: 0.7,
            },
        ));
        input.push((on + 20_000, In::NoteOff { channel: 0, key }));
    }
    input.push((200_000, In::Param("suggest", 1.0)));
    input.sort_by_key(|(at, _)| *at);
    let mut events = daw.run(200_512, &input);
    daw.let_worker_answer();
    events.extend(daw.run(300_000, &[(daw.position, In::Param("suggest", 0.0))]));
    // Markov at the coldest temperature continues the arpeggio from the next bar (beat 12).
    let answered: Vec<(u64, u8)> = events
        .iter()
        .filter(|(at, _)| *at >= 288_000)
        .filter_map(|(at, e)| match e {
            Out::NoteOn { key, .. } => Some((*at, *key)),
            _ => None,
        })
        .collect();
    assert_eq!(
        answered,
        vec![(288_000, 60), (312_000, 64), (336_000, 67), (360_000, 72)]
    );
    assert_balanced(&events);
}
