//! File dialogs: the desktop's own (rfd: the XDG portal or zenity on Linux, the system dialog
//! elsewhere) where one is available, else a file browser inside the window
//! (egui-file-dialog), so Open, Export and sessions always work. Which one is in use is
//! decided once at start-up, printed, and shown in the browser's title.
//! `RIGSMITH_FILE_DIALOG=builtin` or `=native` overrides the choice.

use std::path::{Path, PathBuf};

use bevy::prelude::*;
use bevy_egui::egui;
use egui_file_dialog::{DialogState, FileDialog};

use super::menu::SESSION_EXTENSION;

/// What a dialog was opened for; the path it returns goes to [`super::menu::act_on_path`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    OpenRig,
    OpenSession,
    SaveSession,
    Export,
    /// Match targets: a file whose clip is baked to target meshes.
    OpenTargets,
    /// Match targets: a folder of OBJ frames.
    OpenTargetFolder,
    /// Another character's file whose clips are retargeted onto the open rig.
    RetargetFrom,
}

/// Files whose clips File > Retarget clips reads.
pub const CLIP_EXTENSIONS: [&str; 4] = ["glb", "gltf", "vrm", "fbx"];

/// The formats the editor opens.
pub const OPEN_EXTENSIONS: [&str; 5] = ["glb", "gltf", "obj", "fbx", "txt"];

/// The files Match targets reads: a clip baked to target meshes, or one mesh.
pub const TARGET_EXTENSIONS: [&str; 5] = ["glb", "gltf", "fbx", "vrm", "obj"];

/// Which dialogs the editor uses, and the in-window one while it is open.
#[derive(Resource)]
pub struct Dialogs {
    /// `None`: the desktop's dialogs. `Some(reason)`: the in-window browser, and why.
    builtin: Option<String>,
    open: Option<(Purpose, FileDialog)>,
}

impl Default for Dialogs {
    fn default() -> Self {
        let builtin = builtin_reason();
        match &builtin {
            Some(reason) => info!("file dialogs: Rigsmith's file browser ({reason})"),
            None => info!("file dialogs: the desktop's"),
        }
        Dialogs { builtin, open: None }
    }
}

impl Dialogs {
    /// Dialogs that always use the in-window browser (tests and scripted runs).
    pub fn builtin(reason: &str) -> Dialogs {
        Dialogs { builtin: Some(reason.to_string()), open: None }
    }

    /// Why the in-window browser is used, or `None` for the desktop's dialogs.
    pub fn builtin_reason(&self) -> Option<&str> {
        self.builtin.as_deref()
    }

    /// Whether the in-window browser is showing.
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Asks for a path. The desktop's dialog answers at once (`None` when cancelled); the
    /// in-window browser opens and answers later through [`Dialogs::show`].
    pub fn request(&mut self, purpose: Purpose, suggested_name: &str) -> Option<PathBuf> {
        match &self.builtin {
            None => native(purpose, suggested_name),
            Some(reason) => {
                let mut dialog = in_window(purpose, suggested_name, reason);
                match purpose {
                    Purpose::OpenRig | Purpose::OpenSession | Purpose::OpenTargets | Purpose::RetargetFrom => dialog.pick_file(),
                    Purpose::OpenTargetFolder => dialog.pick_directory(),
                    Purpose::SaveSession | Purpose::Export => dialog.save_file(),
                }
                self.open = Some((purpose, dialog));
                None
            }
        }
    }

    /// Draws the in-window browser, if open; returns the path the user picked.
    pub fn show(&mut self, ctx: &egui::Context) -> Option<(Purpose, PathBuf)> {
        let (purpose, dialog) = self.open.as_mut()?;
        let purpose = *purpose;
        dialog.update(ctx);
        match dialog.state() {
            DialogState::Open => None,
            DialogState::Picked(_) => {
                let path = dialog.take_picked();
                self.open = None;
                path.map(|p| (purpose, p))
            }
            _ => {
                self.open = None;
                None
            }
        }
    }
}

fn title(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::OpenRig => "Open a mesh or rig",
        Purpose::OpenSession => "Open a session",
        Purpose::SaveSession => "Save the session",
        Purpose::Export => "Export glTF / GLB / FBX",
        Purpose::OpenTargets => "Target meshes: a file whose clip is baked, one frame per key, or one mesh",
        Purpose::OpenTargetFolder => "Target meshes: a folder of OBJ frames",
        Purpose::RetargetFrom => "Retarget clips from another character's file",
    }
}

fn native(purpose: Purpose, suggested_name: &str) -> Option<PathBuf> {
    let dialog = rfd::FileDialog::new().set_title(title(purpose));
    match purpose {
        Purpose::OpenRig => dialog.add_filter("Meshes and rigs", &OPEN_EXTENSIONS).pick_file(),
        Purpose::OpenSession => dialog.add_filter("Rigsmith session", &[SESSION_EXTENSION]).pick_file(),
        Purpose::OpenTargets => dialog.add_filter("Animated meshes", &TARGET_EXTENSIONS).pick_file(),
        Purpose::OpenTargetFolder => dialog.pick_folder(),
        Purpose::RetargetFrom => dialog.add_filter("Animated rigs", &CLIP_EXTENSIONS).pick_file(),
        Purpose::SaveSession => dialog.add_filter("Rigsmith session", &[SESSION_EXTENSION]).set_file_name(suggested_name).save_file(),
        Purpose::Export => dialog
            .add_filter("glTF binary", &["glb"])
            .add_filter("glTF", &["gltf"])
            .add_filter("FBX", &["fbx"])
            .add_filter("VRM 1.0 (humanoids)", &["vrm"])
            .set_file_name(suggested_name)
            .save_file(),
    }
}

fn in_window(purpose: Purpose, suggested_name: &str, reason: &str) -> FileDialog {
    let dialog = FileDialog::new()
        .title(&format!("{} (Rigsmith's file browser: {reason})", title(purpose)))
        .id(egui::Id::new("rigsmith_file_dialog"))
        .default_size([760.0, 460.0]);
    match purpose {
        Purpose::OpenRig => {
            dialog.add_file_filter_extensions("Meshes and rigs", OPEN_EXTENSIONS.to_vec()).default_file_filter("Meshes and rigs")
        }
        Purpose::OpenSession => {
            dialog.add_file_filter_extensions("Rigsmith session", vec![SESSION_EXTENSION]).default_file_filter("Rigsmith session")
        }
        Purpose::OpenTargets => {
            dialog.add_file_filter_extensions("Animated meshes", TARGET_EXTENSIONS.to_vec()).default_file_filter("Animated meshes")
        }
        Purpose::OpenTargetFolder => dialog,
        Purpose::RetargetFrom => {
            dialog.add_file_filter_extensions("Animated rigs", CLIP_EXTENSIONS.to_vec()).default_file_filter("Animated rigs")
        }
        Purpose::SaveSession => dialog
            .add_save_extension("Rigsmith session", SESSION_EXTENSION)
            .default_save_extension("Rigsmith session")
            .default_file_name(suggested_name),
        Purpose::Export => dialog
            .add_save_extension("glTF binary", "glb")
            .add_save_extension("glTF", "gltf")
            .add_save_extension("FBX", "fbx")
            .add_save_extension("VRM 1.0 (humanoids)", "vrm")
            .default_save_extension("glTF binary")
            .default_file_name(suggested_name),
    }
}

/// Why the desktop's dialogs cannot be used here, or `None` when they can.
fn builtin_reason() -> Option<String> {
    match std::env::var("RIGSMITH_FILE_DIALOG").as_deref() {
        Ok("builtin") => return Some("RIGSMITH_FILE_DIALOG=builtin".into()),
        Ok("native") => return None,
        _ => {}
    }
    if !cfg!(target_os = "linux") || on_path("zenity") || portal_file_chooser(Path::new("/usr/share/xdg-desktop-portal/portals")) {
        return None;
    }
    Some("no desktop portal with a file chooser and no zenity found".into())
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Whether a session bus is there and an installed portal backend offers a file chooser.
fn portal_file_chooser(portals: &Path) -> bool {
    let bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some();
    bus && std::fs::read_dir(portals).is_ok_and(|entries| {
        entries.flatten().any(|e| std::fs::read_to_string(e.path()).is_ok_and(|s| s.contains("org.freedesktop.impl.portal.FileChooser")))
    })
}
