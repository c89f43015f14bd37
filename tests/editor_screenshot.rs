//! The real editor window under a display (Xvfb with Mesa's software renderer in CI): open a
//! bundled character, draw 60 frames, save a screenshot and check that the viewport shows
//! the mesh (lit pixels unlike the clear colour) and the panels. Skips, saying why, when no
//! display or `xvfb-run` is available.

use std::path::PathBuf;
use std::process::Command;

fn rigsmith() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rigsmith"))
}

fn have(program: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {program}")).output().is_ok_and(|o| o.status.success())
}

/// RGBA pixels and width of a PNG.
fn read_png(path: &PathBuf) -> (Vec<u8>, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).expect("screenshot exists")));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let channels = info.color_type.samples();
    let rgba = buf[..info.buffer_size()].chunks(channels).flat_map(|c| [c[0], c[1 % channels], c[2 % channels], 255]).collect();
    (rgba, info.width as usize)
}

#[test]
fn the_editor_window_shows_a_loaded_character() {
    let display = std::env::var_os("DISPLAY").is_some();
    if !display && !have("xvfb-run") {
        eprintln!("skipped: no DISPLAY and no xvfb-run (apt install xvfb mesa-vulkan-drivers)");
        return;
    }
    let out = std::env::temp_dir().join(format!("rigsmith-editor-{}.png", std::process::id()));
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/samples/khronos_fox/Fox.glb");
    let mut cmd = if display {
        Command::new(rigsmith())
    } else {
        let mut c = Command::new("xvfb-run");
        c.args(["-a", "-s", "-screen 0 1280x800x24"]).arg(rigsmith());
        c
    };
    let status = cmd.arg("edit").arg(&sample).arg("--screenshot").arg(&out).args(["--frames", "60"]).status().expect("start the editor");
    assert!(status.success(), "the editor exited with {status}");
    let (rgba, width) = read_png(&out);
    let height = rgba.len() / 4 / width;
    assert!(width >= 640 && height >= 400, "{width}x{height}");
    // The centre of the window is viewport: the fox is framed there, so many pixels differ
    // from the clear colour (the top-left viewport corner).
    let px = |x: usize, y: usize| &rgba[(y * width + x) * 4..(y * width + x) * 4 + 3];
    let clear = px(width / 2, height - 5).to_vec();
    let mut differing = 0;
    let (x0, x1, y0, y1) = (width * 2 / 5, width * 3 / 5, height * 2 / 5, height * 3 / 5);
    for y in y0..y1 {
        for x in x0..x1 {
            if px(x, y).iter().zip(&clear).any(|(a, b)| a.abs_diff(*b) > 12) {
                differing += 1;
            }
        }
    }
    let share = differing as f64 / ((x1 - x0) * (y1 - y0)) as f64;
    eprintln!("screenshot {} ({width}x{height}): {:.0}% of the centre differs from the background", out.display(), share * 100.0);
    assert!(share > 0.2, "the centre of the viewport looks empty ({:.1}% non-background)", share * 100.0);
}
