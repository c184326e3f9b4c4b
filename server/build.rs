//! The release binary embeds the built widget and console from `../dist` (see
//! `src/assets.rs`). Tell Cargo to rebuild when Trunk writes new files there; the folder
//! is created empty if missing so that a fresh clone compiles before any Trunk build.
fn main() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist");
    let _ = std::fs::create_dir_all(&dist);
    println!("cargo:rerun-if-changed={}", dist.display());
}
