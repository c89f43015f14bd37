//! Loss curves as a PNG: train (blue) and validation (orange) loss per epoch on a log scale,
//! with horizontal grid lines at 1, 2 and 5 times each power of ten. No font: the caption is the
//! CSV beside it.

use std::fs;
use std::path::Path;

use crate::train::EpochLoss;
use crate::ModelError;

const W: usize = 640;
const H: usize = 400;
const MARGIN: usize = 30;

/// Plots `losses` into `path`.
pub fn plot_losses(losses: &[EpochLoss], path: &Path) -> Result<(), ModelError> {
    let mut img = vec![255u8; W * H * 3];
    let values: Vec<f32> = losses.iter().flat_map(|l| [l.train, l.validation]).filter(|v| v.is_finite() && *v > 0.0).collect();
    let lo = values.iter().copied().fold(f32::MAX, f32::min).log10() - 0.05;
    let hi = values.iter().copied().fold(f32::MIN, f32::max).log10().max(lo + 0.1) + 0.05;
    let y_of = |v: f32| {
        let t = (v.log10() - lo) / (hi - lo);
        (H - MARGIN) as f32 - t * (H - 2 * MARGIN) as f32
    };
    let x_of = |i: usize| MARGIN as f32 + i as f32 / (losses.len().max(2) - 1) as f32 * (W - 2 * MARGIN) as f32;
    for decade in (lo.floor() as i32)..=(hi.ceil() as i32) {
        for m in [1.0, 2.0, 5.0] {
            let v = m * 10f32.powi(decade);
            if (lo..=hi).contains(&v.log10()) {
                line(&mut img, (MARGIN as f32, y_of(v)), ((W - MARGIN) as f32, y_of(v)), [215, 215, 215]);
            }
        }
    }
    line(&mut img, (MARGIN as f32, MARGIN as f32), (MARGIN as f32, (H - MARGIN) as f32), [0, 0, 0]);
    line(&mut img, (MARGIN as f32, (H - MARGIN) as f32), ((W - MARGIN) as f32, (H - MARGIN) as f32), [0, 0, 0]);
    for (pick, colour) in [(0, [31, 119, 180]), (1, [255, 127, 14])] {
        let series: Vec<f32> = losses.iter().map(|l| if pick == 0 { l.train } else { l.validation }).collect();
        for i in 1..series.len() {
            if series[i - 1].is_finite() && series[i].is_finite() && series[i - 1] > 0.0 && series[i] > 0.0 {
                line(&mut img, (x_of(i - 1), y_of(series[i - 1])), (x_of(i), y_of(series[i])), colour);
            }
        }
    }
    write_png(&img, path)
}

fn line(img: &mut [u8], a: (f32, f32), b: (f32, f32), colour: [u8; 3]) {
    let steps = ((b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil() as usize).max(1);
    for s in 0..=steps {
        let t = s as f32 / steps as f32;
        let (x, y) = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
        for (dx, dy) in [(0, 0), (1, 0), (0, 1)] {
            let (px, py) = (x.round() as i64 + dx, y.round() as i64 + dy);
            if px >= 0 && py >= 0 && (px as usize) < W && (py as usize) < H {
                let i = (py as usize * W + px as usize) * 3;
                img[i..i + 3].copy_from_slice(&colour);
            }
        }
    }
}

fn write_png(img: &[u8], path: &Path) -> Result<(), ModelError> {
    let tmp = path.with_extension("png.tmp");
    let file = fs::File::create(&tmp)?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), W as u32, H as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| ModelError::Plot(e.to_string()))?;
    writer.write_image_data(img).map_err(|e| ModelError::Plot(e.to_string()))?;
    writer.finish().map_err(|e| ModelError::Plot(e.to_string()))?;
    fs::rename(tmp, path)?;
    Ok(())
}
