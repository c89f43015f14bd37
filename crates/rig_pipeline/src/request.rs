//! A rigging job as the command line and the editor ask for it.

use std::path::PathBuf;

use rig_core::autorig::SkeletonSource;
use rig_core::autoskel::AutoSkeletonOptions;
use rig_core::autoskin::{AutoSkinOptions, SkinMethod};
use rig_core::InfluenceLimit;
use rig_model::backend::BackendChoice;
use rig_model::decode::SamplingOptions;
use rig_model::rigging::LearnedOptions;
use rig_model::skin::DecodeOptions;

/// Which generator makes the rig.
#[derive(Debug, Clone)]
pub enum Method {
    /// Templates or the band tree for the skeleton, the voxel binder (`skin`) for the weights.
    Geometric,
    /// The learned generator and skin tokenizer.
    Learned(LearnedSettings),
    /// Skeleton, weights and clip recovered from how the rig's clip `clip` moves the mesh.
    /// With `learned`, the learned initialiser (models/motion_init) seeds the bones.
    Motion { clip: usize, options: rig_core::motion::MotionOptions, learned: bool },
    /// Rig inversion: the rig's controls that reproduce a sequence of target meshes, solved as a
    /// new clip; the skeleton and weights stay as they are.
    Match(Box<crate::invert::MatchSettings>),
    /// Face rig: ARKit's 52 blendshapes added to the mesh; the skeleton and weights stay.
    /// `models`: the folder holding face/ (`None`: the usual one); `learned`: with the refinement.
    Face { models: Option<PathBuf>, learned: bool },
}

/// Settings of the learned method.
#[derive(Debug, Clone)]
pub struct LearnedSettings {
    /// The folder holding the models (`None`: `RIGSMITH_MODELS`, else the shipped `models/`).
    pub models: Option<PathBuf>,
    pub backend: BackendChoice,
    pub sampling: SamplingOptions,
    /// With a presence head: bones under this probability of influencing a vertex are dropped.
    pub min_presence: f32,
    /// Which skeleton candidate: the n-th sample (seed + n) or the n-th best beam.
    pub candidate: usize,
}

impl Default for LearnedSettings {
    fn default() -> Self {
        LearnedSettings {
            models: None,
            backend: BackendChoice::Auto,
            sampling: SamplingOptions::default(),
            min_presence: DecodeOptions::default().min_presence,
            candidate: 0,
        }
    }
}

/// One rigging job: where the skeleton comes from, how it is skinned, and the influence limit
/// every weight goes through.
#[derive(Debug, Clone)]
pub struct RigRequest {
    pub method: Method,
    /// Generate a skeleton, or keep the rig's (only the weighted joints deform, or every joint
    /// as the rig marks it: the editor's edited joints).
    pub skeleton: SkeletonSource,
    /// The geometric binder's settings (its own limit is replaced by `limit`). The learned
    /// method uses the same binder for its prior.
    pub skin: AutoSkinOptions,
    /// Influences per vertex and the smallest share one may have; also applied on export.
    pub limit: InfluenceLimit,
}

impl RigRequest {
    /// The geometric method with `skin`'s settings and its own limit.
    pub fn geometric(skeleton: SkeletonSource, skin: AutoSkinOptions) -> RigRequest {
        RigRequest { method: Method::Geometric, skeleton, limit: skin.limit, skin }
    }

    /// The learned method with the decoder's default limit.
    pub fn learned(skeleton: SkeletonSource, settings: LearnedSettings) -> RigRequest {
        RigRequest { method: Method::Learned(settings), skeleton, skin: AutoSkinOptions::default(), limit: DecodeOptions::default().limit }
    }

    /// The smallest-share default of a method: 3 % for bone heat, 10 % for the falloff binder
    /// and for learned decoding.
    pub fn default_min_weight(learned: bool, skin: SkinMethod) -> f32 {
        match (learned, skin) {
            (true, _) => DecodeOptions::default().limit.min_weight,
            (false, SkinMethod::Heat) => AutoSkinOptions::default().limit.min_weight,
            (false, SkinMethod::Falloff) => AutoSkinOptions::falloff().limit.min_weight,
        }
    }

    /// A new skeleton replaces the rig's.
    pub fn generates_skeleton(&self) -> bool {
        matches!(self.skeleton, SkeletonSource::Generate(_))
    }

    /// The binder's settings with the request's limit.
    pub fn skin_options(&self) -> AutoSkinOptions {
        AutoSkinOptions { limit: self.limit, ..self.skin.clone() }
    }

    /// The learned method's options (`None` for the geometric one).
    pub fn learned_options(&self) -> Option<LearnedOptions> {
        let Method::Learned(s) = &self.method else { return None };
        let (keep_skeleton, all_joints_deform) = match &self.skeleton {
            SkeletonSource::Generate(_) => (false, false),
            SkeletonSource::Keep { weighted_only } => (true, !weighted_only),
        };
        Some(LearnedOptions {
            sampling: s.sampling.clone(),
            decode: DecodeOptions { limit: self.limit, min_presence: s.min_presence },
            keep_skeleton,
            all_joints_deform,
            candidate: s.candidate,
        })
    }

    /// The skeleton options of a generating request, with `up` filled in when it is not set.
    pub(crate) fn skeleton_options(&self, up: [f32; 3]) -> Option<AutoSkeletonOptions> {
        let SkeletonSource::Generate(o) = &self.skeleton else { return None };
        Some(AutoSkeletonOptions { up: o.up.or(Some(up)), ..o.clone() })
    }

    /// Rig from motion on the rig's clip `clip` (the skeleton is always new).
    pub fn motion(clip: usize, options: rig_core::motion::MotionOptions) -> RigRequest {
        // The solver keeps its own limit; no share is too small to keep.
        let limit = InfluenceLimit { max_influences: options.ssdr.max_influences, min_weight: 0.0 };
        RigRequest {
            method: Method::Motion { clip, options, learned: false },
            skeleton: SkeletonSource::Generate(AutoSkeletonOptions::default()),
            skin: AutoSkinOptions::default(),
            limit,
        }
    }

    /// Rig from motion seeded by the learned initialiser instead of trajectory clusters.
    pub fn with_learned_init(mut self) -> RigRequest {
        if let Method::Motion { learned, .. } = &mut self.method {
            *learned = true;
        }
        self
    }

    /// Match targets on the rig as it is (`rigsmith invert` as a job).
    pub fn match_targets(settings: crate::invert::MatchSettings) -> RigRequest {
        RigRequest {
            method: Method::Match(Box::new(settings)),
            skeleton: SkeletonSource::Keep { weighted_only: false },
            skin: AutoSkinOptions::default(),
            limit: AutoSkinOptions::default().limit,
        }
    }

    /// A face rig on the rig's mesh (`rigsmith face-rig` as a job).
    pub fn face(models: Option<PathBuf>, learned: bool) -> RigRequest {
        RigRequest {
            method: Method::Face { models, learned },
            skeleton: SkeletonSource::Keep { weighted_only: false },
            skin: AutoSkinOptions::default(),
            limit: AutoSkinOptions::default().limit,
        }
    }

    /// What the editor calls the job.
    pub fn label(&self) -> &'static str {
        if matches!(self.method, Method::Face { .. }) {
            "Face rig"
        } else if matches!(self.method, Method::Motion { .. }) {
            "Rig from motion"
        } else if matches!(self.method, Method::Match(_)) {
            "Match targets"
        } else if self.generates_skeleton() {
            "Generate"
        } else {
            "Re-skin"
        }
    }
}
