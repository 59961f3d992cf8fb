//! With ONNX Runtime missing, the plugin still answers: the Markov generator stands in.
//! (Its own process, because ONNX Runtime is loaded once per process.)

#[test]
fn a_missing_runtime_falls_back_to_markov() {
    // The only test in this binary, so no other thread reads the environment meanwhile.
    std::env::set_var("CONTINUO_ORT_PATH", "/nonexistent/libonnxruntime.so.1.31.1");
    continuo_host_tests::assert_markov_answers_for_the_model();
}
