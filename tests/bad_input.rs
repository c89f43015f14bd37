//! Every file of the malformed corpus gives its specific error: no panic, no success.

mod common;

#[test]
fn malformed_files_fail_with_specific_errors() {
    let dir = common::repo().join("tests/bad_input");
    let expected = std::fs::read_to_string(dir.join("EXPECTED.tsv")).expect("EXPECTED.tsv");
    let mut checked = 0;
    for line in expected.lines().skip(1) {
        let (file, phrase) = line.split_once('\t').expect("file<TAB>phrase");
        let result = std::panic::catch_unwind(|| rig_io::load(&dir.join(file)));
        let outcome = result.unwrap_or_else(|_| panic!("{file}: the importer panicked"));
        match outcome {
            Ok(_) => panic!("{file}: was accepted"),
            Err(e) => assert!(e.to_string().contains(phrase), "{file}: error {:?} does not mention {phrase:?}", e.to_string()),
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} malformed files");
}

#[test]
fn the_corpus_base_file_itself_is_valid() {
    let dir = common::repo().join("tests/bad_input");
    let imported = rig_io::load(&dir.join("valid_base.gltf")).expect("the base of the corpus loads");
    assert_eq!(imported.rig.skeleton.len(), 2);
    assert_eq!(imported.rig.mesh.vertex_count(), 6);
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
}

#[test]
fn every_truncation_of_a_real_glb_fails_cleanly() {
    let bytes = std::fs::read(common::samples().join("khronos_riggedsimple/RiggedSimple.glb")).expect("sample");
    for cut in (0..bytes.len()).step_by(97) {
        let r = std::panic::catch_unwind(|| rig_io::gltf_read::load_bytes(&bytes[..cut], None, "cut"));
        assert!(matches!(r, Ok(Err(_))), "cut at {cut} of {}: panicked or accepted", bytes.len());
    }
}

#[test]
fn a_missing_file_says_so_whatever_its_name() {
    for name in ["no_such_character", "no_such_character.glb", "no_such_character.xyz"] {
        let path = common::repo().join("tests/bad_input").join(name);
        let e = rig_io::load(&path).err().unwrap_or_else(|| panic!("{name}: a missing file was accepted")).to_string();
        assert!(e.contains("cannot read") && e.contains("No such file"), "{name}: {e}");
    }
}
