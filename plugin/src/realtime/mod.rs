//! Code that runs on the audio thread.
//!
//! Everything under this module is called from `process()` or `reset()` and obeys the audio
//! thread's rules: no allocation or freeing, no locks, no blocking, no logging, no I/O, and a cost
//! bounded by the events in the block. The only exceptions are constructors, which say so and are
//! called from `Default`/`activate()` or the worker thread. The plugin's tests run with
//! nice-plug's `assert_process_allocs`, which aborts on any allocation inside `process()`.

pub mod clock;
pub mod modes;
pub mod partner;
pub mod player;
pub mod queues;
pub mod tracker;
pub mod view;
