// SPDX-License-Identifier: MIT OR Apache-2.0
//! Tells the tests which target they were built for, so that they can find
//! its cargo runner (`CARGO_TARGET_<TRIPLE>_RUNNER`). The protocol constants
//! are not generated here: they are committed (`src/proto/generated.rs`) and
//! checked against the uapi header by `tests/proto_generated.rs`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").expect("cargo sets TARGET");
    println!(
        "cargo:rustc-env=NLCHAN_TARGET_ENV={}",
        target.to_uppercase().replace(['-', '.'], "_")
    );
}
