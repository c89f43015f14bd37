//! The timeline: motion (bind pose, flex and walk tests, the file's clips), play / pause, scrub, speed,
//! and pose mode (rotate the selected joint on top of the motion).

use bevy_egui::egui;

use crate::document::Document;
use crate::playback::{duration, Motion, Playback};

pub fn show(ui: &mut egui::Ui, doc: &Document, playback: &mut Playback) {
    let Some(rig) = doc.rig.as_ref() else {
        ui.label("Timeline: open a rig.");
        return;
    };
    let motion_name = |m: Motion| match m {
        Motion::Bind => "bind pose".to_string(),
        Motion::Flex => "test: flex each joint".to_string(),
        Motion::Walk => "test: walk".to_string(),
        Motion::Clip(i) => rig.clips.get(i).map_or("clip".to_string(), |c| format!("clip: {}", c.name)),
    };
    ui.horizontal(|ui| {
        let before = playback.motion;
        egui::ComboBox::from_id_salt("motion").selected_text(motion_name(playback.motion)).width(220.0).show_ui(ui, |ui| {
            ui.selectable_value(&mut playback.motion, Motion::Bind, motion_name(Motion::Bind));
            ui.selectable_value(&mut playback.motion, Motion::Flex, motion_name(Motion::Flex));
            ui.selectable_value(&mut playback.motion, Motion::Walk, motion_name(Motion::Walk))
                .on_hover_text("Swings the legs found in the skeleton (two legs walk, four trot); no legs found: the bind pose.");
            for i in 0..rig.clips.len() {
                ui.selectable_value(&mut playback.motion, Motion::Clip(i), motion_name(Motion::Clip(i)));
            }
        });
        if playback.motion != before {
            playback.time = 0.0;
            playback.playing = playback.motion != Motion::Bind;
        }
        let length = duration(playback.motion, rig);
        let label = if playback.playing { "Pause" } else { "Play" };
        if ui.add_enabled(length > 0.0, egui::Button::new(label)).clicked() {
            playback.playing = !playback.playing;
        }
        ui.add_enabled(
            length > 0.0,
            egui::Slider::new(&mut playback.time, 0.0..=length.max(1e-3)).suffix(" s").fixed_decimals(2).text("time"),
        );
        ui.add(egui::Slider::new(&mut playback.speed, 0.1..=2.0).text("speed"));
        if playback.playing {
            ui.ctx().request_repaint();
        }
    });
    pose_mode(ui, doc, playback);
}

fn pose_mode(ui: &mut egui::Ui, doc: &Document, playback: &mut Playback) {
    let Some((j, name)) = doc.selected_joint.and_then(|j| Some((j, doc.rig.as_ref()?.skeleton.joints.get(j)?.name.clone()))) else {
        return;
    };
    ui.horizontal(|ui| {
        ui.label(format!("pose {name}:"));
        let mut angles = playback.pose_offsets.get(&j).copied().unwrap_or([0.0; 3]);
        let mut changed = false;
        for (k, axis) in ["X", "Y", "Z"].iter().enumerate() {
            changed |= ui.add(egui::Slider::new(&mut angles[k], -180.0..=180.0).suffix(" deg").text(*axis)).changed();
        }
        if changed {
            playback.pose_offsets.insert(j, angles);
        }
        if ui.button("reset pose").clicked() {
            playback.pose_offsets.clear();
        }
    });
}
