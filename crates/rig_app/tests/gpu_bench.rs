//! `rigsmith bench gpu`'s windowless drawing: the bundled fox, its clip playing, drawn by the
//! editor's shaders into an offscreen image. Checks that frames are timed and that the image
//! shows the fox (a good share of its pixels differ from the background).
//!
//! Needs a Vulkan adapter (Mesa's lavapipe is enough). Without one the test prints why and
//! passes, unless RIGSMITH_REQUIRE_GPU=1 (CI sets it) makes that a failure.

use std::path::PathBuf;

use rig_app::gpu_bench::{run, GpuBenchSettings};

#[test]
fn the_fox_is_drawn_offscreen_and_each_frame_is_timed() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/samples/khronos_fox/Fox.glb");
    let rig = rig_io::load(&path).expect("the sample loads").rig;
    let settings = GpuBenchSettings { frames: 4, width: 320, height: 200 };
    let report = match run(rig, &settings) {
        Ok(report) => report,
        Err(why) => {
            assert!(std::env::var("RIGSMITH_REQUIRE_GPU").is_err(), "{why}");
            eprintln!("skipped: {why}");
            return;
        }
    };
    assert_eq!(report.frame_ms.len(), 4);
    assert!(report.frame_ms.iter().all(|ms| ms.is_finite() && *ms > 0.0), "{:?}", report.frame_ms);
    assert!(report.motion.contains("clip"), "{}", report.motion);
    let frame = &report.last_frame;
    assert_eq!((frame.width, frame.height), (320, 200));
    // The framed fox covers about a tenth of the image (the corner is background).
    let covered = frame.pixels_unlike_background(8) as f64 / (320.0 * 200.0);
    assert!(covered > 0.03 && covered < 0.6, "{covered:.3} of the image differs from the background");
}
