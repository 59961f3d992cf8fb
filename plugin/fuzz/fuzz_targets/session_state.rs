//! Any bytes as the saved session and editor settings a host hands back: ignored or restored,
//! never a panic, and whatever is restored can be played.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    continuo::fuzzing::session_state(data);
});
