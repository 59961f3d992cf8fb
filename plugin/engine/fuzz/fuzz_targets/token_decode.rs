//! Any token stream (as little-endian u16 ids) through the decoder: an error or a melody, and a
//! melody that decodes encodes again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    continuo_engine::fuzzing::token_decode(data);
});
