//! Feeds arbitrary bytes to the binary FBX importer. Any panic, abort, leak or out-of-memory is
//! a bug: malformed input must come back as an `IoError`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(imported) = rig_io::fbx::from_bytes(data, "fuzz") {
        // What imports must also export.
        let _ = rig_io::gltf_write::to_glb(&imported.rig, &rig_io::ExportOptions::default());
    }
});
