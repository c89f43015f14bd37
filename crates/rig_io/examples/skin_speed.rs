//! Skinning speed on rig files, without the editor: builds in release in minutes where the
//! whole `rigsmith` binary (Bevy, burn) takes over an hour, so the binder's release figures can
//! be measured on this machine. Prints what `rigsmith bench skin` prints.
//!
//! ```sh
//! rigsmith bench make --input ../shared/assets/quaternius_animal_fox/Fox.glb --vertices 50000 --out /tmp/fox50k.glb
//! cargo run --release -p rig_io --example skin_speed -- /tmp/fox50k.glb [--falloff]
//! ```

use rig_core::autoskin::{timing::time_skin, AutoSkinOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let falloff = args.iter().any(|a| a == "--falloff");
    let options = if falloff { AutoSkinOptions::falloff() } else { AutoSkinOptions::default() };
    let files: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    if files.is_empty() {
        eprintln!("usage: skin_speed FILE.glb... [--falloff]");
        std::process::exit(2);
    }
    for file in files {
        match rig_io::load(std::path::Path::new(file)) {
            Ok(imported) => println!("{file}\n{}", time_skin(&imported.rig, &options)),
            Err(e) => eprintln!("{file}: {e}"),
        }
    }
}
