//! Arbitrary text through the KDL front-end and, when it loads, lowering and validation.

#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use netc::intent::Syntax;

fuzz_target!(|data: &[u8]| {
    if let Some(text) = common::text(data) {
        common::check(text, Syntax::Kdl);
    }
});
