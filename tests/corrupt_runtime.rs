//! A file where ONNX Runtime should be that is not a library (a truncated download, say): the
//! plugin loads, passes MIDI and the Markov generator answers. (Its own process, because ONNX
//! Runtime is loaded once per process.)

#[test]
fn a_corrupt_runtime_falls_back_to_markov() {
    let dir = std::env::temp_dir().join(format!("continuo-corrupt-ort-{}", std::process::id()));
    // Process ids come round again (under Wine, often): start from an empty folder.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fake = dir.join("libonnxruntime.so.1.31.1");
    std::fs::write(&fake, b"\x7fELF this is not really a shared library").unwrap();
    // The only test in this binary, so no other thread reads the environment meanwhile.
    std::env::set_var("CONTINUO_ORT_PATH", &fake);
    continuo_host_tests::assert_markov_answers_for_the_model();
}
