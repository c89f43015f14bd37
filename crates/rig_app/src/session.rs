//! Session files and crash recovery.
//!
//! A session is JSON: the source file's path, the edited skeleton and weights, the rig's clips
//! (the mesh and materials are re-read from the source), which parts are skinned, and view
//! settings. It is
//! written atomically (temporary file, then rename). The editor autosaves the session to a
//! recovery file shortly after every change and at least every minute while there are
//! unsaved changes; a clean exit removes it, so a recovery file found at start-up means the
//! last run ended without closing: the editor offers to restore it.

use std::path::{Path, PathBuf};

use nalgebra::{Quaternion, UnitQuaternion, Vector3};
use rig_core::{Joint, Mat4, Rig, Skeleton, SkinWeights, Trs};
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "rigsmith-session";
/// 2: with the moved mesh's geometry (older builds would show the skeleton on the source's mesh).
pub const VERSION: u32 = 2;
/// The version of a session without geometry, which older builds read too.
const VERSION_WITHOUT_GEOMETRY: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SessionJoint {
    pub name: String,
    pub parent: Option<usize>,
    pub translation: [f32; 3],
    /// Quaternion `[x, y, z, w]`.
    pub rotation: [f32; 4],
    pub scale: [f32; 3],
    /// Column-major inverse bind matrix.
    pub joint_from_mesh: [f32; 16],
    pub deform: bool,
    /// False for a transform node above the bones (absent in older sessions: a bone).
    #[serde(default = "yes")]
    pub in_skin: bool,
}

fn yes() -> bool {
    true
}

/// Everything a session file holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Session {
    pub format: String,
    pub version: u32,
    pub source: PathBuf,
    pub skeleton: Vec<SessionJoint>,
    /// Per vertex, `(joint, weight)` pairs.
    pub weights: Vec<Vec<(u32, f32)>>,
    pub skinned: Vec<bool>,
    pub selected_joint: Option<usize>,
    /// The rig's clips (absent in older sessions: the source's clips, remapped by joint name).
    #[serde(default)]
    pub clips: Option<Vec<crate::session_clips::SessionClip>>,
    /// Seconds since the Unix epoch when it was written.
    pub saved_at: u64,
    /// The mesh's geometry when an edit moved it (binding in another rest pose); absent: the
    /// source's.
    #[serde(default)]
    pub geometry: Option<SessionGeometry>,
}

/// Vertex positions, normals and morph deltas (per part, per target) of a moved mesh.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SessionGeometry {
    pub positions: Vec<[f32; 3]>,
    pub normals: Vec<[f32; 3]>,
    pub morph_deltas: Vec<Vec<Vec<[f32; 3]>>>,
    pub morph_normal_deltas: Vec<Vec<Vec<[f32; 3]>>>,
    /// Each source mesh's morph target names, for a mesh whose targets an edit added (a face rig).
    #[serde(default)]
    pub morph_names: Vec<Vec<String>>,
}

impl SessionGeometry {
    fn of(rig: &Rig) -> SessionGeometry {
        SessionGeometry {
            positions: rig.mesh.positions.clone(),
            normals: rig.mesh.normals.clone(),
            morph_deltas: rig.mesh.parts.iter().map(|p| p.morph_targets.iter().map(|t| t.position_deltas.clone()).collect()).collect(),
            morph_normal_deltas: rig.mesh.parts.iter().map(|p| p.morph_targets.iter().map(|t| t.normal_deltas.clone()).collect()).collect(),
            morph_names: rig.mesh.groups.iter().map(|g| g.morph_target_names.clone()).collect(),
        }
    }

    /// Puts the geometry on `rig`, or says why it does not fit.
    fn apply(&self, rig: &mut Rig) -> Result<(), String> {
        self.add_targets(rig);
        let m = &rig.mesh;
        let fits = |deltas: &[Vec<Vec<[f32; 3]>>], of: fn(&rig_core::MorphTarget) -> usize| {
            deltas.len() == m.parts.len()
                && deltas
                    .iter()
                    .zip(&m.parts)
                    .all(|(d, p)| d.len() == p.morph_targets.len() && d.iter().zip(&p.morph_targets).all(|(a, t)| a.len() == of(t)))
        };
        let deltas_fit =
            fits(&self.morph_deltas, |t| t.position_deltas.len()) && fits(&self.morph_normal_deltas, |t| t.normal_deltas.len());
        let deltas = self.morph_deltas.iter().chain(&self.morph_normal_deltas).flatten().flatten();
        let finite = self.positions.iter().chain(&self.normals).chain(deltas).flatten().all(|v| v.is_finite());
        if self.positions.len() != m.positions.len() || self.normals.len() != m.normals.len() || !deltas_fit || !finite {
            return Err("the session's moved mesh does not fit the source file (or is damaged)".into());
        }
        rig.mesh.positions = self.positions.clone();
        rig.mesh.normals = self.normals.clone();
        for ((part, deltas), normals) in rig.mesh.parts.iter_mut().zip(&self.morph_deltas).zip(&self.morph_normal_deltas) {
            for ((t, d), n) in part.morph_targets.iter_mut().zip(deltas).zip(normals) {
                t.position_deltas = d.clone();
                t.normal_deltas = n.clone();
            }
        }
        Ok(())
    }
}

impl SessionGeometry {
    /// Gives the source's meshes the targets the session names when they differ (an edit added
    /// some): empty targets, filled by [`SessionGeometry::apply`] from the saved offsets.
    fn add_targets(&self, rig: &mut Rig) {
        let m = &mut rig.mesh;
        let named = self.morph_names.len() == m.groups.len() && self.morph_deltas.len() == m.parts.len();
        if !named || m.groups.iter().zip(&self.morph_names).all(|(g, n)| g.morph_target_names == *n) {
            return;
        }
        for (g, names) in m.groups.iter_mut().zip(&self.morph_names) {
            let defaults: Vec<f32> = names
                .iter()
                .map(|n| {
                    g.morph_target_names.iter().position(|o| o == n).and_then(|k| g.morph_default_weights.get(k)).copied().unwrap_or(0.0)
                })
                .collect();
            g.morph_target_names = names.clone();
            g.morph_default_weights = defaults;
        }
        for (part, (deltas, normals)) in m.parts.iter_mut().zip(self.morph_deltas.iter().zip(&self.morph_normal_deltas)) {
            part.morph_targets = deltas
                .iter()
                .zip(normals)
                .map(|(d, n)| rig_core::MorphTarget { position_deltas: vec![[0.0; 3]; d.len()], normal_deltas: vec![[0.0; 3]; n.len()] })
                .collect();
        }
    }
}

impl Session {
    /// The session of `rig`, opened from `source`.
    pub fn of(rig: &Rig, source: &Path, selected_joint: Option<usize>) -> Session {
        let skeleton = rig
            .skeleton
            .joints
            .iter()
            .map(|j| {
                let q = j.rest_local.rotation.quaternion();
                let mut ibm = [0.0; 16];
                ibm.copy_from_slice(j.joint_from_mesh.as_slice());
                SessionJoint {
                    name: j.name.clone(),
                    parent: j.parent,
                    translation: j.rest_local.translation.into(),
                    rotation: [q.i, q.j, q.k, q.w],
                    scale: j.rest_local.scale.into(),
                    joint_from_mesh: ibm,
                    deform: j.deform,
                    in_skin: j.in_skin,
                }
            })
            .collect();
        Session {
            format: FORMAT.into(),
            version: VERSION_WITHOUT_GEOMETRY,
            source: source.to_path_buf(),
            skeleton,
            weights: (0..rig.weights.vertex_count()).map(|v| rig.weights.row_pairs(v)).collect(),
            skinned: rig.mesh.parts.iter().map(|p| p.skinned).collect(),
            selected_joint,
            clips: Some(rig.clips.iter().map(crate::session_clips::SessionClip::of).collect()),
            saved_at: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
            geometry: None,
        }
    }

    /// With the rig's geometry, for a mesh that an edit moved.
    pub fn with_geometry(mut self, rig: &Rig, moved: bool) -> Session {
        self.geometry = moved.then(|| SessionGeometry::of(rig));
        self.version = if moved { VERSION } else { VERSION_WITHOUT_GEOMETRY };
        self
    }

    /// The session's skeleton.
    pub fn skeleton(&self) -> Skeleton {
        let joints = self
            .skeleton
            .iter()
            .map(|j| Joint {
                name: j.name.clone(),
                parent: j.parent,
                rest_local: Trs {
                    translation: Vector3::from(j.translation),
                    rotation: UnitQuaternion::from_quaternion(Quaternion::new(j.rotation[3], j.rotation[0], j.rotation[1], j.rotation[2])),
                    scale: Vector3::from(j.scale),
                },
                joint_from_mesh: Mat4::from_column_slice(&j.joint_from_mesh),
                deform: j.deform,
                in_skin: j.in_skin,
            })
            .collect();
        Skeleton { joints, ..Default::default() }
    }

    /// Re-reads the source file and puts the session's edits on it. Fails with a message that
    /// says what does not match when the source changed since.
    pub fn restore(&self) -> Result<Rig, String> {
        let mut rig = rig_io::load(&self.source)
            .map_err(|e| format!("the session's source file {} could not be read: {e}", self.source.display()))?
            .rig;
        if rig.mesh.vertex_count() != self.weights.len() || rig.mesh.parts.len() != self.skinned.len() {
            return Err(format!(
                "the source file {} changed since the session was saved ({} vertices / {} parts now, {} / {} in the session)",
                self.source.display(),
                rig.mesh.vertex_count(),
                rig.mesh.parts.len(),
                self.weights.len(),
                self.skinned.len()
            ));
        }
        let skeleton = self.skeleton();
        skeleton.validate().map_err(|e| format!("the session's skeleton is damaged: {e}"))?;
        let weights = SkinWeights::from_rows(self.weights.clone());
        weights.validate(rig.mesh.vertex_count(), skeleton.len()).map_err(|e| format!("the session's weights are damaged: {e}"))?;
        match &self.clips {
            Some(clips) => {
                rig.clips = clips.iter().map(|c| c.to_clip(skeleton.len(), rig.mesh.groups.len())).collect::<Result<_, _>>()?;
            }
            None => remap_clips_by_name(&mut rig, &skeleton),
        }
        if let Some(geometry) = &self.geometry {
            geometry.apply(&mut rig)?;
        }
        rig.skeleton = skeleton;
        rig.weights = weights;
        rig.mesh.parts.iter_mut().zip(&self.skinned).for_each(|(p, &s)| p.skinned = s);
        Ok(rig)
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn from_json(bytes: &[u8]) -> Result<Session, String> {
        let s: Session = serde_json::from_slice(bytes).map_err(|e| format!("not a Rigsmith session file: {e}"))?;
        if s.format != FORMAT || s.version > VERSION {
            return Err(format!("not a Rigsmith session file this version reads (format '{}', version {})", s.format, s.version));
        }
        Ok(s)
    }

    /// Writes the session atomically.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("could not create {}: {e}", dir.display()))?;
        }
        rig_io::write_atomic(path, &self.to_json()).map_err(|e| e.to_string())
    }

    pub fn load(path: &Path) -> Result<Session, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("could not read {}: {e}", path.display()))?;
        Session::from_json(&bytes)
    }
}

/// The source's clips keep the channels of joints the edited skeleton still has (by name).
fn remap_clips_by_name(rig: &mut Rig, edited: &Skeleton) {
    let old = rig.skeleton.clone();
    for clip in &mut rig.clips {
        clip.channels.retain_mut(|c| match old.joints.get(c.joint).and_then(|j| edited.find(&j.name)) {
            Some(k) => {
                c.joint = k;
                true
            }
            None => false,
        });
    }
    rig.clips.retain(|c| !c.channels.is_empty() || !c.morph_channels.is_empty());
}

/// Where the recovery file lives: `$RIGSMITH_RECOVERY_DIR`, else `$XDG_STATE_HOME/rigsmith`,
/// else `~/.local/state/rigsmith`.
pub fn recovery_path() -> PathBuf {
    let dir = std::env::var_os("RIGSMITH_RECOVERY_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_STATE_HOME").map(|d| PathBuf::from(d).join("rigsmith")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state/rigsmith")))
        .unwrap_or_else(|| std::env::temp_dir().join("rigsmith"));
    dir.join("recovery.rsession")
}
