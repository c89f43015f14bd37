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
