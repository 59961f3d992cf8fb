//! The neural generator's cost on one core: loading (session + warm-up), loading and the first
//! answer, one 4-bar continuation of an 8-bar prompt, 4 and 8 variations, and Auto style (which
//! scores the prompt under each style).
//! Needs ONNX Runtime: `CONTINUO_ORT_PATH=target/onnxruntime/libonnxruntime.so.1.31.1`
//! (`cargo xtask fetch-runtime` puts it there). Another model: `CONTINUO_MODEL_PATH=….onnx`.

use criterion::{criterion_group, criterion_main, Criterion};

use continuo_engine::generator::{GenerationRequest, Generator, Style};
use continuo_engine::midi_file;
use continuo_engine::neural::NeuralGenerator;

fn bench(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/ode-to-joy.mid");
    let imported = midi_file::read_file(std::path::Path::new(path), None).expect("example melody");
    let history = [imported.melody.clone()];
    let ts = imported.melody.time_signature;
    let request = |seed: u64, style: Style| GenerationRequest {
        length_bars: 4,
        time_signature: ts,
        style,
        temperature: 1.0,
        seed,
        start_tick: imported.bars() * ts.bar_ticks(),
        pitch_filter: None,
        top_p: continuo_engine::neural::TOP_P,
        follow_motifs: continuo_engine::generator::DEFAULT_FOLLOW_MOTIFS,
        feel: continuo_engine::generator::DEFAULT_FEEL,
        landing: true,
        style_strength: continuo_engine::generator::DEFAULT_STYLE_STRENGTH,
    };
    let mut neural = NeuralGenerator::load().unwrap_or_else(|why| panic!("{why}"));
    neural.generate(&history, &request(1, Style::Folk)).unwrap();
    let (prompt, sampled) = neural.last_counts();
    println!(
        "one 4-bar continuation: {prompt} prompt tokens, {sampled} sampled tokens ({:?} KV cache)",
        neural.cache_kind()
    );

    let mut group = c.benchmark_group("neural");
    group.sample_size(20);
    group.bench_function("load_and_warm_up", |b| {
        b.iter(|| NeuralGenerator::load().unwrap())
    });
    let mut seed = 0;
    group.bench_function("load_and_first_answer", |b| {
        b.iter(|| {
            seed += 1;
            let mut fresh = NeuralGenerator::load().unwrap();
            fresh
                .generate(&history, &request(seed, Style::Folk))
                .unwrap()
        })
    });
    group.bench_function("continue_4_bars_from_8", |b| {
        b.iter(|| {
            seed += 1;
            neural
                .generate(&history, &request(seed, Style::Folk))
                .unwrap()
        })
    });
    group.bench_function("four_variations", |b| {
        b.iter(|| {
            seed += 4;
            neural
                .generate_variations(
                    &history,
                    &request(seed, Style::Folk),
                    &[seed, seed + 1, seed + 2, seed + 3],
                )
                .unwrap()
        })
    });
    group.bench_function("eight_variations", |b| {
        b.iter(|| {
            seed += 8;
            let seeds: Vec<u64> = (seed..seed + 8).collect();
            neural
                .generate_variations(&history, &request(seed, Style::Folk), &seeds)
                .unwrap()
        })
    });
    group.bench_function("four_variations_auto_style", |b| {
        b.iter(|| {
            seed += 4;
            neural
                .generate_variations(
                    &history,
                    &request(seed, Style::Auto),
                    &[seed, seed + 1, seed + 2, seed + 3],
                )
                .unwrap()
        })
    });
    group.bench_function("continue_4_bars_auto_style", |b| {
        b.iter(|| {
            seed += 1;
            neural
                .generate(&history, &request(seed, Style::Auto))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
