//! The editor's state without a window: open a bundled sample through the same message the
//! menu, drag and drop and the command line send, and check what the views get.

use std::path::PathBuf;

use bevy::prelude::*;
use rig_app::document::{Document, OpenFile};
use rig_app::scene::RigPart;

fn sample(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/samples").join(rel)
}

fn app() -> App {
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, AssetPlugin::default()))
        .init_asset::<Mesh>()
        .init_asset::<Image>()
        .init_asset::<StandardMaterial>()
        .init_asset::<rig_app::rig_material::RigMaterial>()
        .init_asset::<bevy::render::storage::ShaderBuffer>()
        .add_plugins(rig_app::EditorCorePlugin);
    app
}

fn open(app: &mut App, path: PathBuf) {
    app.world_mut().write_message(OpenFile(path));
    app.update();
    app.update();
}

#[test]
fn opening_a_sample_fills_the_document_and_spawns_one_entity_per_part() {
    let mut app = app();
    let path = sample("khronos_fox/Fox.glb");
    open(&mut app, path.clone());
    let reference = rig_io::load(&path).expect("the sample loads").rig;
    let parts = app.world_mut().query::<&RigPart>().iter(app.world()).count();
    assert_eq!(parts, reference.mesh.parts.len());
    let doc = app.world().resource::<Document>();
    assert!(doc.error.is_none(), "{:?}", doc.error);
    assert_eq!(doc.stats.vertices, reference.mesh.positions.len());
    assert_eq!(doc.stats.joints, reference.skeleton.len());
    // Each part's Bevy mesh holds exactly that part's vertices and triangles.
    let rig = doc.rig.as_ref().expect("rig");
    for p in 0..rig.mesh.parts.len() {
        let mesh = rig_app::scene::part_mesh(rig, p);
        let part = &rig.mesh.parts[p];
        assert_eq!(mesh.count_vertices(), part.vertices.len());
        let max_index = mesh.indices().expect("indices").iter().max().unwrap_or(0);
        assert!(max_index < part.vertices.len(), "part {p}: index {max_index} out of its {} vertices", part.vertices.len());
    }
}

#[test]
fn a_file_that_fails_keeps_the_open_rig_and_shows_the_error() {
    let mut app = app();
    open(&mut app, sample("khronos_riggedsimple/RiggedSimple.glb"));
    let before = app.world().resource::<Document>().stats.clone();
    let bad = std::env::temp_dir().join(format!("rigsmith-bad-{}.glb", std::process::id()));
    std::fs::write(&bad, b"glTF\x02\x00\x00\x00 not really").expect("write");
    open(&mut app, bad.clone());
    let _ = std::fs::remove_file(&bad);
    let parts = app.world_mut().query::<&RigPart>().iter(app.world()).count();
    assert!(parts > 0, "the previous rig's meshes stay in the scene");
    let doc = app.world().resource::<Document>();
    let error = doc.error.as_deref().expect("an error is shown");
    assert!(error.contains("rigsmith-bad"), "{error}");
    assert_eq!(doc.stats, before, "the previous rig stays open");
}

/// Runs frames until the worker has no job (the result is then applied), at most a minute.
fn finish_job(app: &mut App) {
    let start = std::time::Instant::now();
    while app.world().resource::<rig_app::worker::Worker>().running.is_some() {
        assert!(start.elapsed().as_secs() < 60, "the job did not finish within a minute");
        std::thread::sleep(std::time::Duration::from_millis(5));
        app.update();
    }
    app.update();
}

fn submit(app: &mut App, generate_skeleton: bool) {
    submit_with(app, generate_skeleton, rig_app::ui::generate::GenerateSettings::default());
}

fn submit_with(app: &mut App, generate_skeleton: bool, settings: rig_app::ui::generate::GenerateSettings) {
    app.world_mut().resource_scope(|world, mut worker: Mut<rig_app::worker::Worker>| {
        let mut doc = world.resource_mut::<Document>();
        rig_app::ui::generate::start(&mut doc, &mut worker, &settings, generate_skeleton);
    });
}

fn doc(app: &App) -> &Document {
    app.world().resource::<Document>()
}

fn doc_mut(app: &mut App) -> Mut<'_, Document> {
    app.world_mut().resource_mut::<Document>()
}

/// The loop a user goes through: open, generate, select, move a joint, undo, redo, re-skin,
/// export, reload the export and compare.
#[test]
fn generate_edit_undo_redo_reskin_export_reload() {
    use rig_core::edit::bind_position;
    let mut app = app();
    open(&mut app, sample("khronos_fox/Fox.glb"));
    let original_joints = doc(&app).stats.joints;

    submit(&mut app, true);
    assert!(app.world().resource::<rig_app::worker::Worker>().running.is_some(), "generation runs on the worker");
    finish_job(&mut app);
    let d = doc(&app);
    assert!(d.error.is_none(), "{:?}", d.error);
    let rig = d.rig.as_ref().unwrap();
    assert!(
        rig.skeleton.len() > 3 && rig.skeleton.joints[0].name == "pelvis" && rig.skeleton.find("upperarm_l").is_some(),
        "the quadruped template replaced the file's {original_joints} joints"
    );
    assert_eq!(rig.unweighted_skinned_vertices(), 0);
    assert_eq!(d.history.undo_label(), Some("Generate"));
    let generated = rig.clone();

    // Select the joint with the most descendants below the root and move it.
    let j = (1..rig.skeleton.len()).find(|&j| rig.skeleton.children(j).count() > 0).expect("an inner joint");
    let before = bind_position(&rig.skeleton, j);
    let size = Vec3::from(d.stats.size).length();
    doc_mut(&mut app).selected_joint = Some(j);
    let target = [before[0] + 0.05 * size, before[1], before[2]];
    doc_mut(&mut app).edit_skeleton("Move joint", false, |rig| rig_core::edit::move_joint(rig, j, target));
    app.update();
    let moved = doc(&app).rig.as_ref().unwrap().clone();
    let landed = bind_position(&moved.skeleton, j);
    assert!((0..3).all(|k| (landed[k] - target[k]).abs() <= 1e-5 * size), "the joint lands where it was moved: {landed:?} vs {target:?}");
    assert!(doc(&app).needs_reskin);

    doc_mut(&mut app).undo();
    assert_eq!(doc(&app).rig.as_ref().unwrap().skeleton, generated.skeleton, "undo restores the generated skeleton");
    doc_mut(&mut app).redo();
    assert_eq!(doc(&app).rig.as_ref().unwrap().skeleton, moved.skeleton, "redo moves the joint again");

    submit(&mut app, false);
    finish_job(&mut app);
    let d = doc(&app);
    assert!(d.error.is_none(), "{:?}", d.error);
    let reskinned = d.rig.as_ref().unwrap().clone();
    assert_eq!(reskinned.skeleton, moved.skeleton, "re-skin keeps the edited skeleton");
    assert_ne!(reskinned.weights, generated.weights, "moving a joint changes the skin");
    assert_eq!(reskinned.unweighted_skinned_vertices(), 0);
    // The re-skinned weights equal a fresh binding of the edited skeleton (the cache only saves
    // work; the heat solves start from the last answer, so they agree to the solver's tolerance,
    // except where a small influence sits at the pruning floor: kept in one, dropped in the
    // other, it moves that row by about twice its weight).
    let fresh =
        rig_core::autoskin::skin_for_skeleton(&reskinned.mesh, &reskinned.skeleton, &Default::default(), rig_core::Task::silent()).unwrap();
    let differences: Vec<f32> = (0..fresh.vertex_count()).map(|v| row_difference(&reskinned.weights, &fresh, v)).collect();
    let worst = differences.iter().copied().fold(0.0, f32::max);
    let off = differences.iter().filter(|&&d| d > 1e-2).count();
    assert!(
        worst < 0.1 && off * 100 <= fresh.vertex_count(),
        "re-skin and fresh skin differ by up to {worst}, by over 0.01 at {off} vertices"
    );
    // One entity per part, rebuilt for the new weights.
    let parts = app.world_mut().query::<&RigPart>().iter(app.world()).count();
    assert_eq!(parts, reskinned.mesh.parts.len());

    let out = std::env::temp_dir().join(format!("rigsmith-headless-{}.glb", std::process::id()));
    let limit = rig_app::ui::generate::GenerateSettings::default().limit();
    assert!(rig_app::ui::menu::export(&mut doc_mut(&mut app), &out, limit), "{:?}", doc(&app).error);
    open(&mut app, out.clone());
    let _ = std::fs::remove_file(&out);
    let back = doc(&app).rig.as_ref().unwrap().clone();
    let name = &reskinned.skeleton.joints[j].name;
    let k = back.skeleton.find(name).expect("the moved joint is in the export");
    let p = bind_position(&back.skeleton, k);
    assert!((0..3).all(|a| (p[a] - target[a]).abs() < 1e-3 * size), "exported {p:?}, moved to {target:?}");
    assert_eq!(back.mesh.vertex_count(), reskinned.mesh.vertex_count());
    for v in (0..back.mesh.vertex_count()).step_by(97) {
        let w = |r: &rig_core::Rig, v: usize| {
            let mut row: Vec<(String, f32)> =
                r.weights.row_pairs(v).into_iter().map(|(j, w)| (r.skeleton.joints[j as usize].name.clone(), w)).collect();
            row.sort_by(|a, b| a.0.cmp(&b.0));
            row
        };
        let (a, b) = (w(&reskinned, v), w(&back, v));
        assert_eq!(a.len(), b.len(), "vertex {v}");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.0, y.0);
            assert!((x.1 - y.1).abs() < 1e-3, "vertex {v}: {x:?} vs {y:?}");
        }
    }
}

#[test]
fn cancel_stops_a_generation_and_leaves_the_rig_alone() {
    let mut app = app();
    open(&mut app, sample("khronos_fox/Fox.glb"));
    let before = doc(&app).rig.as_ref().unwrap().skeleton.clone();
    submit(&mut app, true);
    app.world().resource::<rig_app::worker::Worker>().cancel();
    finish_job(&mut app);
    let d = doc(&app);
    assert_eq!(d.rig.as_ref().unwrap().skeleton, before);
    assert!(d.history.undo_label().is_none());
    assert!(d.status.as_deref().is_some_and(|s| s.starts_with("Cancelled")), "{:?}", d.status);
}

/// The learned method on the worker: the shipped models generate a valid rig (one undo step),
/// re-skin the artist's skeleton, and a cancelled learned job leaves the rig alone.
#[test]
fn the_learned_method_generates_and_reskins_on_the_worker() {
    use rig_app::ui::generate::{GenerateSettings, Method};
    let learned = || GenerateSettings { method: Method::Learned, ..Default::default() };
    let mut app = app();
    open(&mut app, sample("khronos_fox/Fox.glb"));
    let artist = doc(&app).rig.as_ref().unwrap().skeleton.clone();
    submit_with(&mut app, true, learned());
    finish_job(&mut app);
    let d = doc(&app);
    assert!(d.error.is_none(), "{:?}", d.error);
    let rig = d.rig.as_ref().unwrap();
    assert_ne!(rig.skeleton, artist, "a new skeleton");
    assert_eq!(rig.skeleton.roots().count(), 1);
    assert_eq!(rig.unweighted_skinned_vertices(), 0);
    assert!(d.history.undo_label().is_some(), "generation is one undo step");
    assert!(
        d.status.as_deref().is_some_and(|s| s.contains("learned models on CPU (ndarray)")),
        "the status names the backend: {:?}",
        d.status
    );
    doc_mut(&mut app).undo();
    assert_eq!(doc(&app).rig.as_ref().unwrap().skeleton, artist);
    submit_with(&mut app, false, learned());
    finish_job(&mut app);
    let rig = doc(&app).rig.as_ref().unwrap();
    assert_eq!(rig.skeleton, artist, "re-skin keeps the skeleton");
    assert_eq!(rig.unweighted_skinned_vertices(), 0);
    let before = rig.clone();
    submit_with(&mut app, true, learned());
    app.world().resource::<rig_app::worker::Worker>().cancel();
    finish_job(&mut app);
    let d = doc(&app);
    assert_eq!(d.rig.as_ref().unwrap().skeleton, before.skeleton);
    assert!(d.status.as_deref().is_some_and(|s| s.starts_with("Cancelled")), "{:?}", d.status);
}

#[test]
fn a_session_restores_the_edited_rig_from_its_source() {
    let mut app = app();
    let path = sample("khronos_fox/Fox.glb");
    open(&mut app, path.clone());
    let j = 5;
    doc_mut(&mut app).edit_skeleton("Move", false, |rig| rig_core::edit::move_joint(rig, j, [1.0, 2.0, 3.0]));
    doc_mut(&mut app).edit_skeleton("Delete", false, |rig| rig_core::edit::delete_joint(rig, 7));
    // A clip made in the editor (as Match targets adds one) exists only in the session.
    doc_mut(&mut app).edit("Add a clip", |rig| {
        let mut clip = rig.clips[0].clone();
        clip.name = "solved here".into();
        rig.clips.push(clip);
        Ok::<(), std::convert::Infallible>(())
    });
    let edited = doc(&app).rig.as_ref().unwrap().clone();
    let file = std::env::temp_dir().join(format!("rigsmith-session-{}.rsession", std::process::id()));
    assert!(rig_app::ui::menu::save_session(&mut doc_mut(&mut app), &file));
    let mut other = self::app();
    assert!(rig_app::ui::menu::open_session(&mut doc_mut(&mut other), &file), "{:?}", doc(&other).error);
    let _ = std::fs::remove_file(&file);
    let restored = doc(&other).rig.as_ref().unwrap();
    assert_eq!(restored.skeleton.len(), edited.skeleton.len());
    for (a, b) in restored.skeleton.joints.iter().zip(&edited.skeleton.joints) {
        assert_eq!(a.name, b.name);
        assert_eq!(a.parent, b.parent);
        assert!((a.joint_from_mesh - b.joint_from_mesh).abs().max() < 1e-6);
    }
    assert_eq!(restored.weights, edited.weights);
    assert_eq!(doc(&other).path.as_deref(), Some(path.as_path()));
    // The clips come back as they were, the one made in the editor included.
    assert_eq!(restored.clips, edited.clips);
}

#[test]
fn painting_changes_the_selected_joint_is_one_undo_step_and_respects_locks() {
    let mut app = app();
    open(&mut app, sample("khronos_fox/Fox.glb"));
    let before = doc(&app).rig.as_ref().unwrap().clone();
    let j = before.skeleton.find("b_Spine02_03").expect("spine joint");
    let neighbours = rig_core::paint::neighbours(&before.mesh);
    let centre = rig_core::edit::bind_position(&before.skeleton, j);
    let mut settings = rig_app::paint::PaintSettings { radius: 0.15, strength: 0.8, ..Default::default() };
    doc_mut(&mut app).selected_joint = Some(j);
    // Three dabs of one stroke: one undo step.
    for merge in [false, true, true] {
        rig_app::paint::dab_at(&mut doc_mut(&mut app), &settings, centre, merge, &neighbours).expect("painted");
    }
    let painted = doc(&app).rig.as_ref().unwrap().weights.clone();
    let gain: f32 = (0..painted.vertex_count()).map(|v| painted.weight(v, j as u32) - before.weights.weight(v, j as u32)).sum();
    assert!(gain > 1.0, "the joint gained weight ({gain})");
    assert!(painted.sums().iter().all(|s| *s == 0.0 || (s - 1.0).abs() < 1e-4), "rows stay normalised");
    doc_mut(&mut app).undo();
    assert_eq!(doc(&app).rig.as_ref().unwrap().weights, before.weights, "one undo step removes the whole stroke");

    // A locked neighbour keeps its weights; a locked joint cannot be painted.
    let parent = before.skeleton.joints[j].parent.expect("parent");
    let parent_name = before.skeleton.joints[parent].name.clone();
    settings.locked.insert(parent_name);
    rig_app::paint::dab_at(&mut doc_mut(&mut app), &settings, centre, false, &neighbours).expect("painted");
    let w = doc(&app).rig.as_ref().unwrap().weights.clone();
    for v in 0..w.vertex_count() {
        assert!(
            (w.weight(v, parent as u32) - before.weights.weight(v, parent as u32)).abs() < 1e-5,
            "vertex {v}: the locked joint changed"
        );
    }
    doc_mut(&mut app).selected_joint = Some(parent);
    assert!(rig_app::paint::dab_at(&mut doc_mut(&mut app), &settings, centre, false, &neighbours).is_none());
    assert!(doc(&app).error.as_deref().is_some_and(|e| e.contains("locked")), "{:?}", doc(&app).error);
}

#[test]
fn pose_mode_rotations_survive_a_move_but_not_a_reordering_edit() {
    let mut app = app();
    open(&mut app, sample("khronos_fox/Fox.glb"));
    let rig = doc(&app).rig.as_ref().unwrap().clone();
    let spine = rig.skeleton.find("b_Spine02_03").expect("spine joint");
    let posed = |app: &App| app.world().resource::<rig_app::playback::PosedJoints>().mesh_from_joint.clone();
    let rest = posed(&app);
    app.world_mut().resource_mut::<rig_app::playback::Playback>().pose_offsets.insert(spine, [0.0, 0.0, 40.0]);
    app.update();
    assert_ne!(posed(&app), rest, "the rotation shows");

    // Moving a joint keeps the joints' order: the rotation stays on the spine.
    let at = rig_core::edit::bind_position(&rig.skeleton, spine);
    doc_mut(&mut app).edit_skeleton("Move", false, |r| rig_core::edit::move_joint(r, spine, [at[0], at[1] + 1.0, at[2]]));
    app.update();
    let offsets = &app.world().resource::<rig_app::playback::Playback>().pose_offsets;
    assert_eq!(offsets.get(&spine), Some(&[0.0, 0.0, 40.0]));

    // Re-parenting re-orders the joints: the rotation would land on another joint, so it goes.
    // (the first leaf under the last joint: a parent after its child must be sorted before it)
    let leaf = (0..rig.skeleton.len()).find(|&j| rig.skeleton.children(j).next().is_none()).expect("a leaf");
    let last = rig.skeleton.len() - 1;
    doc_mut(&mut app).edit_skeleton("Re-parent", false, |r| rig_core::edit::reparent(r, leaf, last));
    app.update();
    let names = |s: &rig_core::Skeleton| s.joints.iter().map(|j| j.name.clone()).collect::<Vec<_>>();
    assert_ne!(names(&doc(&app).rig.as_ref().unwrap().skeleton), names(&rig.skeleton), "the joints were re-ordered");
    assert!(app.world().resource::<rig_app::playback::Playback>().pose_offsets.is_empty());
}

/// Sum over joints of |a - b| at vertex `v`.
fn row_difference(a: &rig_core::SkinWeights, b: &rig_core::SkinWeights, v: usize) -> f32 {
    let mut joints: Vec<u32> = a.row(v).0.iter().chain(b.row(v).0).copied().collect();
    joints.sort_unstable();
    joints.dedup();
    joints.iter().map(|&k| (a.weight(v, k) - b.weight(v, k)).abs()).sum()
}

/// Match targets as a user runs it: choose the targets (the Fox's own Run clip), solve on the
/// worker, the clip is added and plays, the error overlay shows the fit, undo takes it away.
#[test]
fn match_targets_adds_a_clip_that_plays_the_targets_and_undoes() {
    use rig_app::playback::{Motion, Playback};
    use rig_app::rig_material::{Overlay, ViewSettings};
    let mut app = app();
    let fox = sample("khronos_fox/Fox.glb");
    open(&mut app, fox.clone());
    let clips = doc(&app).rig.as_ref().unwrap().clips.len();
    let settings = rig_app::ui::match_targets::MatchSettings { clip: "Run".into(), ..Default::default() };
    // Without targets the panel asks for them and nothing runs.
    app.world_mut().resource_scope(|world, mut worker: Mut<rig_app::worker::Worker>| {
        rig_app::ui::match_targets::start(&mut world.resource_mut::<Document>(), &mut worker, &settings);
    });
    assert!(doc(&app).error.as_deref().is_some_and(|e| e.contains("choose the target meshes")), "{:?}", doc(&app).error);
    assert!(app.world().resource::<rig_app::worker::Worker>().running.is_none());
    doc_mut(&mut app).error = None;
    doc_mut(&mut app).targets = Some(fox);
    app.world_mut().resource_scope(|world, mut worker: Mut<rig_app::worker::Worker>| {
        rig_app::ui::match_targets::start(&mut world.resource_mut::<Document>(), &mut worker, &settings);
    });
    assert!(app.world().resource::<rig_app::worker::Worker>().running.is_some(), "Match targets runs on the worker");
    finish_job(&mut app);
    let d = doc(&app);
    assert!(d.error.is_none(), "{:?}", d.error);
    let rig = d.rig.as_ref().unwrap();
    assert_eq!(rig.clips.len(), clips + 1, "the solved clip comes after the file's");
    assert_eq!(rig.clips[clips].name, "Run");
    let input = d.clip_input.clone().expect("the targets are kept for the overlay and the ghost");
    assert_eq!(input.clip, clips);
    assert!(d.status.as_deref().is_some_and(|s| s.contains("mean error")), "{:?}", d.status);
    assert_eq!(app.world().resource::<Playback>().motion, Motion::Clip(clips), "the solved clip plays");
    // The error overlay at a few frames: the solved clip lands on the targets.
    app.world_mut().resource_mut::<ViewSettings>().overlay = Overlay::Error;
    for f in [0, input.frames.times.len() / 2, input.frames.times.len() - 1] {
        let mut playback = app.world_mut().resource_mut::<Playback>();
        playback.playing = false;
        playback.time = input.frames.times[f];
        app.update();
        let (rms, max) = app.world().resource::<rig_app::scene::MotionErrorNow>().percent.expect("the overlay's figures");
        assert!(rms < 1e-3 && max < 1e-2, "frame {f}: error {rms} % (largest {max} %) of the diagonal");
    }
    doc_mut(&mut app).undo();
    assert_eq!(doc(&app).rig.as_ref().unwrap().clips.len(), clips, "undo removes the solved clip");
    app.update();
    assert!(app.world().resource::<rig_app::scene::MotionErrorNow>().percent.is_none(), "no figures for a clip that is gone");
}

/// Edit > Bind in T-pose on a generated biped: the arms and the mesh move, one undo step puts
/// the mesh back, and a session keeps the moved mesh.
#[test]
fn binding_in_a_t_pose_moves_the_mesh_undoes_and_survives_a_session() {
    let mut app = app();
    let path = sample("kenney_mini_character/player.glb");
    open(&mut app, path);
    submit(&mut app, true);
    finish_job(&mut app);
    let generated = doc(&app).rig.as_ref().unwrap().clone();
    let mesh_id = doc(&app).mesh_id;
    assert!(rig_app::ui::menu::bind_in(&mut doc_mut(&mut app), rig_core::repose::RestPose::T), "{:?}", doc(&app).error);
    let posed = doc(&app).rig.as_ref().unwrap().clone();
    assert_ne!(posed.mesh.positions, generated.mesh.positions, "the mesh did not move");
    assert_eq!(posed.weights, generated.weights);
    assert!(doc(&app).mesh_id > mesh_id, "views and the worker keep the old mesh");
    let file = std::env::temp_dir().join(format!("rigsmith-tpose-{}.rsession", std::process::id()));
    assert!(rig_app::ui::menu::save_session(&mut doc_mut(&mut app), &file));
    let mut other = self::app();
    assert!(rig_app::ui::menu::open_session(&mut doc_mut(&mut other), &file), "{:?}", doc(&other).error);
    let restored = doc(&other).rig.as_ref().unwrap();
    assert_eq!(restored.mesh.positions, posed.mesh.positions);
    assert_eq!(restored.mesh.normals, posed.mesh.normals);
    // Saved again from the reopened session, the moved mesh is still there.
    assert!(rig_app::ui::menu::save_session(&mut doc_mut(&mut other), &file));
    let mut third = self::app();
    assert!(rig_app::ui::menu::open_session(&mut doc_mut(&mut third), &file), "{:?}", doc(&third).error);
    let _ = std::fs::remove_file(&file);
    assert_eq!(doc(&third).rig.as_ref().unwrap().mesh.positions, posed.mesh.positions);
    doc_mut(&mut app).undo();
    let undone = doc(&app).rig.as_ref().unwrap();
    assert_eq!(undone.mesh, generated.mesh);
    assert_eq!(undone.skeleton, generated.skeleton);
    doc_mut(&mut app).redo();
    assert_eq!(doc(&app).rig.as_ref().unwrap().mesh, posed.mesh);
}

/// The face template's head without its shapes, written where the editor can open it.
fn bare_head(name: &str) -> PathBuf {
    let template = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/face/ict_face_expressions.glb");
    let mut head = rig_io::load(&template).expect("the face template").rig;
    head.mesh.parts.iter_mut().for_each(|p| p.morph_targets.clear());
    head.mesh.groups.iter_mut().for_each(|g| {
        g.morph_target_names.clear();
        g.morph_default_weights.clear();
    });
    let path = std::env::temp_dir().join(format!("rigsmith-{name}-{}.glb", std::process::id()));
    rig_io::save(&head, &path, &rig_io::ExportOptions::default()).expect("writes");
    path
}

#[test]
fn face_rig_runs_on_the_worker_draws_its_shapes_undoes_and_survives_a_session() {
    let mut app = app();
    let path = bare_head("face");
    open(&mut app, path.clone());
    app.world_mut().resource_scope(|world, mut worker: Mut<rig_app::worker::Worker>| {
        let mut doc = world.resource_mut::<Document>();
        rig_app::face::start(&mut doc, &mut worker, false);
    });
    assert!(app.world().resource::<rig_app::worker::Worker>().running.is_some(), "Face rig runs on the worker");
    finish_job(&mut app);
    let rig = doc(&app).rig.as_ref().expect("rig").clone();
    assert!(doc(&app).error.is_none(), "{:?}", doc(&app).error);
    assert_eq!(rig.mesh.groups[0].morph_target_names, rig_core::face::ARKIT_52.map(String::from).to_vec());
    let jaw = rig.mesh.groups[0].morph_target_names.iter().position(|n| n == "jawOpen").expect("jawOpen");
    let moving = rig.mesh.parts[0].morph_targets[jaw].position_deltas.iter().filter(|d| d.iter().any(|x| x.abs() > 1e-3)).count();
    assert!(moving > 1000, "jawOpen moves {moving} skin vertices");
    // The slider's weight reaches the part's morph weights buffer (targets, vertices, weights).
    app.world_mut().resource_mut::<rig_app::face::FacePose>().weights.insert("jawOpen".into(), 0.75);
    app.update();
    app.update();
    let (buffer, part) = {
        let mut q = app.world_mut().query::<(&rig_app::scene::PartMorphs, &RigPart)>();
        let (m, p) = q.iter(app.world()).find(|(_, p)| p.part == 0).expect("the skin's entity");
        (m.weights.clone(), p.part)
    };
    let buffers = app.world().resource::<Assets<bevy::render::storage::ShaderBuffer>>();
    let bytes = buffers.get(&buffer).and_then(|b| b.data.clone()).expect("weights written");
    let floats: Vec<f32> = bytes.chunks(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    assert_eq!(floats[0] as usize, 52);
    assert_eq!(floats[1] as usize, rig.mesh.parts[part].vertices.len());
    assert_eq!(floats[2 + jaw], 0.75);
    assert_eq!(floats.iter().skip(2).filter(|w| **w != 0.0).count(), 1);
    // A session keeps the shapes the source file does not have.
    let file = std::env::temp_dir().join(format!("rigsmith-face-session-{}.rsession", std::process::id()));
    assert!(rig_app::ui::menu::save_session(&mut doc_mut(&mut app), &file));
    let mut other = self::app();
    assert!(rig_app::ui::menu::open_session(&mut doc_mut(&mut other), &file), "{:?}", doc(&other).error);
    let restored = doc(&other).rig.as_ref().expect("restored");
    assert_eq!(restored.mesh.groups[0].morph_target_names, rig.mesh.groups[0].morph_target_names);
    assert_eq!(restored.mesh.parts[0].morph_targets[jaw], rig.mesh.parts[0].morph_targets[jaw]);
    // Undo takes the shapes off again.
    doc_mut(&mut app).undo();
    assert!(doc(&app).rig.as_ref().expect("rig").mesh.groups[0].morph_target_names.is_empty());
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_file(&path);
}
