//! Loading the fixture catalog, and one test per class of bad input: each builds a bad version
//! by changing one file of the good fixture in memory and checks the error's code, file,
//! line and path.

use std::path::Path;

use catalog::{Catalog, LiveCatalog, LoadError};

fn fixture_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/good"))
}

fn good_files() -> Vec<(String, String)> {
    Catalog::load_dir(fixture_dir())
        .expect("the good fixture loads")
        .files()
        .to_vec()
}

/// The good files with `from` replaced by `to` in `file` (exactly one occurrence).
fn changed(file: &str, from: &str, to: &str) -> Vec<(String, String)> {
    let mut files = good_files();
    let f = files
        .iter_mut()
        .find(|(p, _)| p == file)
        .unwrap_or_else(|| panic!("no file {file}"));
    assert_eq!(
        f.1.matches(from).count(),
        1,
        "{from:?} must occur once in {file}"
    );
    f.1 = f.1.replace(from, to);
    files
}

fn added(file: &str, content: &str) -> Vec<(String, String)> {
    let mut files = good_files();
    files.push((file.to_string(), content.to_string()));
    files
}

fn errors(files: Vec<(String, String)>) -> Vec<LoadError> {
    match Catalog::load_files(files) {
        Ok(_) => panic!("the bad version loaded"),
        Err(e) => e,
    }
}

/// 1-based line of the first line of `text` containing `needle`.
fn line_of(files: &[(String, String)], file: &str, needle: &str) -> usize {
    let text = &files.iter().find(|(p, _)| p == file).expect("file").1;
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {file}"))
        + 1
}

/// 1-based line of the first line containing `needle` at or after the one containing `anchor`.
fn line_after(files: &[(String, String)], file: &str, anchor: &str, needle: &str) -> usize {
    let text = &files.iter().find(|(p, _)| p == file).expect("file").1;
    let start = line_of(files, file, anchor) - 1;
    text.lines()
        .skip(start)
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not after {anchor:?} in {file}"))
        + start
        + 1
}

/// Like `only`, with the line given.
fn only_at(
    files: Vec<(String, String)>,
    code: &str,
    file: &str,
    line: usize,
    path: &str,
) -> LoadError {
    let errs = errors(files);
    assert_eq!(errs.len(), 1, "expected one error, got: {errs:#?}");
    let e = errs.into_iter().next().expect("one");
    assert_eq!(
        (e.code, e.file.as_str(), e.line, e.path.as_str()),
        (code, file, line, path),
        "{e}"
    );
    e
}

/// 1-based column where `needle` starts on its line.
fn column_of(files: &[(String, String)], file: &str, needle: &str) -> usize {
    let text = &files.iter().find(|(p, _)| p == file).expect("file").1;
    let line = text.lines().find(|l| l.contains(needle)).expect("line");
    line[..line.find(needle).expect("needle")].chars().count() + 1
}

/// Asserts that the only error is `code` at `file`, on the line containing `needle`, at
/// `path`; returns it for further checks.
fn only(
    files: Vec<(String, String)>,
    code: &str,
    file: &str,
    needle: &str,
    path: &str,
) -> LoadError {
    let line = line_of(&files, file, needle);
    let errs = errors(files);
    assert_eq!(errs.len(), 1, "expected one error, got: {errs:#?}");
    let e = errs.into_iter().next().expect("one");
    assert_eq!(e.code, code, "{e}");
    assert_eq!(e.file, file, "{e}");
    assert_eq!(e.line, line, "{e}");
    assert_eq!(e.path, path, "{e}");
    assert!(!e.message.zh.is_empty() && !e.message.en.is_empty());
    e
}

// ------------------------------------------------------------------ good input

#[test]
fn good_fixture_loads() {
    let c = Catalog::load_dir(fixture_dir()).expect("loads");
    assert_eq!(c.departments().len(), 8);
    assert_eq!(c.life_events().len(), 3);
    assert_eq!(c.items().len(), 6);
    assert_eq!(c.bundles().len(), 2);
    assert_eq!(c.files()[0].0, "bundles/community.yaml");
    let mz = c.item("410100-MZ-0001").expect("item");
    assert_eq!(mz.department, "410100-MZ");
    assert_eq!(mz.kind, catalog::ItemKind::Confirmation);
    assert_eq!(mz.conditions.rules.len(), 2);
    assert_eq!(mz.time_limit.and_then(|t| t.promised), Some(0));
    assert!(mz.zero_material, "the only upload is optional");
    assert!(!c.item("410100-WJ-0001").expect("item").zero_material);
    let field = &mz.form.pages[0].fields[0];
    assert_eq!((field.label.as_str(), field.required), ("姓名", true));
    assert_eq!(field.label_en.as_deref(), Some("Name"));
    let wedding = &mz.form.pages[1].fields[2];
    assert_eq!(wedding.when.as_deref(), Some("person.age >= 22"));
    assert!(!wedding.required);
    assert_eq!(
        c.department("410105001001").expect("dept").level,
        catalog::DeptLevel::Community
    );
    assert_eq!(
        c.department("410100-MZ").expect("dept").parent.as_deref(),
        Some("410100")
    );
    let json = serde_json::to_value(mz).expect("serialises");
    assert_eq!(json["kind"], "行政确认");
    assert_eq!(json["form"]["pages"][0]["fields"][1]["type"], "id_number");
}

#[test]
fn digest_is_stable_and_order_independent() {
    let files = good_files();
    let a = Catalog::load_files(files.clone()).expect("loads");
    let mut reversed = files.clone();
    reversed.reverse();
    let b = Catalog::load_files(reversed).expect("loads");
    assert_eq!(a.digest(), b.digest());
    assert_eq!(a.digest().len(), 64);
    let c = Catalog::load_files(changed("life_events.yaml", "Housing", "Housing ")).expect("loads");
    assert_ne!(a.digest(), c.digest());
}

#[test]
fn empty_and_comment_only_files_are_fine() {
    let mut files = added("notes.yaml", "# nothing yet\n");
    files.push(("empty.yaml".into(), String::new()));
    files.push(("sections.yaml".into(), "items:\nbundles: []\n".into()));
    Catalog::load_files(files).expect("loads");
}

#[test]
fn load_dir_reports_paths_relative_to_the_folder() {
    let e = Catalog::load_dir(&fixture_dir().join("..").join("does-not-exist")).unwrap_err();
    assert_eq!(e[0].code, "io");
}

// ---------------------------------------------------------- YAML and its shape

#[test]
fn yaml_that_does_not_parse() {
    let files = changed("life_events.yaml", "name: 结婚\n", "name: [结婚\n");
    // The scanner notices the open bracket on the next line, where the ':' is.
    only(
        files,
        "yaml_syntax",
        "life_events.yaml",
        "name_en: Getting married",
        "",
    );
    let files = changed("life_events.yaml", "name: 住房", "name: \"住房");
    let errs = errors(files);
    assert_eq!(
        (errs.len(), errs[0].code, errs[0].file.as_str()),
        (1, "yaml_syntax", "life_events.yaml"),
        "{errs:?}"
    );
    assert!(errs[0].line > 0 && errs[0].column > 0);
}

#[test]
fn duplicate_keys_are_refused() {
    let files = changed(
        "life_events.yaml",
        "name: 住房\n",
        "name: 住房\n    name: 房子\n",
    );
    let e = only(files, "duplicate_key", "life_events.yaml", "name: 房子", "");
    assert!(e.message.en.contains("\"name\""), "{e}");
}

#[test]
fn unknown_key() {
    let files = changed(
        "materials.yaml",
        "    accept: [pdf, jpg, png]\n",
        "    acept: [pdf, jpg, png]\n",
    );
    let e = only(
        files,
        "unknown_key",
        "materials.yaml",
        "acept",
        "materials[4].acept",
    );
    assert!(e.message.en.contains("accept"), "{e}");
}

#[test]
fn unknown_section() {
    only(
        added("x.yaml", "itemz: []\n"),
        "unknown_section",
        "x.yaml",
        "itemz",
        "itemz",
    );
}

#[test]
fn section_that_is_not_a_list() {
    only(
        added("x.yaml", "items:\n  code: x\n"),
        "not_a_list",
        "x.yaml",
        "code: x",
        "items",
    );
}

#[test]
fn missing_key() {
    let files = changed("life_events.yaml", "    name: 住房\n", "");
    let e = only(
        files,
        "missing_key",
        "life_events.yaml",
        "code: housing",
        "life_events[2]",
    );
    assert!(e.message.en.contains("\"name\""), "{e}");
}

#[test]
fn wrong_type() {
    let files = changed(
        "items/minzheng.yaml",
        "    visits: 1\n",
        "    visits: once\n",
    );
    only(
        files,
        "wrong_type",
        "items/minzheng.yaml",
        "visits: once",
        "items[0].visits",
    );
    let files = changed(
        "items/minzheng.yaml",
        "    instant: false\n",
        "    instant: [no]\n",
    );
    only(
        files,
        "wrong_type",
        "items/minzheng.yaml",
        "instant: [no]",
        "items[0].instant",
    );
}

#[test]
fn definition_that_is_not_a_mapping() {
    let e = only(
        added("x.yaml", "items:\n  - just a name\n"),
        "wrong_type",
        "x.yaml",
        "just a name",
        "items[0]",
    );
    assert_eq!(
        e.message.en,
        "wrong type: expected a mapping, found string \"just a name\""
    );
    let e = only(
        added("x.yaml", "- a\n- b\n"),
        "bad_shape",
        "x.yaml",
        "- a",
        "",
    );
    assert!(e.message.en.contains("top level"), "{e}");
}

#[test]
fn value_outside_a_closed_set() {
    let files = changed("elements/person.yaml", "type: phone", "type: telephone");
    let col = column_of(&files, "elements/person.yaml", "telephone");
    let e = only(
        files,
        "bad_value",
        "elements/person.yaml",
        "telephone",
        "elements[2].type",
    );
    assert!(e.message.en.contains("id_number"), "{e}");
    assert_eq!(e.column, col);
}

#[test]
fn a_bad_definition_does_not_hide_the_others() {
    let mut files = changed(
        "materials.yaml",
        "    accept: [pdf, jpg, png]\n",
        "    acept: [pdf, jpg, png]\n",
    );
    files.push((
        "x.yaml".into(),
        "life_events:\n  - code: a b\n    name: x\n  - {code: y}\n".into(),
    ));
    let errs = errors(files);
    let codes: Vec<&str> = errs.iter().map(|e| e.code).collect();
    assert_eq!(
        codes,
        vec!["unknown_key", "bad_code", "missing_key"],
        "{errs:#?}"
    );
}

#[test]
fn every_shape_error_of_one_definition_is_reported() {
    let mut files = changed(
        "items/minzheng.yaml",
        "      amount: 9\n",
        "      amount: 9\n      currency: CNY\n",
    );
    let f = files
        .iter_mut()
        .find(|(p, _)| p == "items/minzheng.yaml")
        .expect("file");
    f.1 = f.1.replace("    visits: 1\n", "    visits: once\n");
    f.1 = f.1.replace(
        "              required: false\n              when",
        "              required: nope\n              when",
    );
    let errs = errors(files.clone());
    let found: Vec<(&str, &str)> = errs.iter().map(|e| (e.code, e.path.as_str())).collect();
    assert_eq!(
        found,
        vec![
            ("wrong_type", "items[0].form.pages[1].fields[2].required"),
            ("unknown_key", "items[0].fee.currency"),
            ("wrong_type", "items[0].visits"),
        ],
        "{errs:#?}"
    );
    assert_eq!(
        errs[1].line,
        line_of(&files, "items/minzheng.yaml", "currency: CNY")
    );
}

#[test]
fn a_definition_that_does_not_parse_is_not_reported_again_as_missing() {
    // The element is broken; the many fields naming it must not add "unknown element" errors.
    let files = changed(
        "elements/person.yaml",
        "    name: 姓名\n",
        "    name: 姓名\n    nme: x\n",
    );
    let errs = errors(files);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(errs[0].code, "unknown_key");
}

// ------------------------------------------------------------------ codes

#[test]
fn duplicate_code_across_files() {
    let files = added(
        "more.yaml",
        "life_events:\n  - code: marriage\n    name: 婚姻\n",
    );
    let e = only(
        files,
        "duplicate_code",
        "more.yaml",
        "code: marriage",
        "life_events[0].code",
    );
    let first = line_of(&good_files(), "life_events.yaml", "code: marriage");
    assert!(
        e.message.en.contains(&format!("life_events.yaml:{first}")),
        "{e}"
    );
    assert_eq!(e.column, 11);
}

#[test]
fn code_with_bad_characters() {
    let files = changed("life_events.yaml", "code: housing", "code: 住房");
    only(
        files,
        "bad_code",
        "life_events.yaml",
        "code: 住房",
        "life_events[2].code",
    );
}

#[test]
fn element_code_must_be_subject_dot_field() {
    let files = added(
        "elements/x.yaml",
        "elements:\n  - code: postcode\n    name: 邮编\n    type: string\n    level: public\n",
    );
    only(
        files,
        "bad_element_code",
        "elements/x.yaml",
        "code: postcode",
        "elements[0].code",
    );
    for bad in ["person", "person.", "person.2nd", "a.b-c"] {
        let files = added(
            "elements/x.yaml",
            &format!(
                "elements:\n  - code: \"{bad}\"\n    name: x\n    type: string\n    level: public\n"
            ),
        );
        let errs = errors(files);
        assert_eq!(errs[0].code, "bad_element_code", "{bad}");
    }
}

// ------------------------------------------------------------- references

#[test]
fn undefined_department() {
    let files = changed(
        "items/newborn.yaml",
        "department: 410100-YB\n",
        "department: 410100-YBB\n",
    );
    let e = only(
        files,
        "unknown_department",
        "items/newborn.yaml",
        "410100-YBB",
        "items[2].department",
    );
    assert!(e.message.en.contains("did you mean \"410100-YB\""), "{e}");
}

#[test]
fn undefined_parent_department() {
    let files = changed(
        "departments.yaml",
        "parent: \"410105001\"",
        "parent: \"410105009\"",
    );
    only(
        files,
        "unknown_department",
        "departments.yaml",
        "410105009",
        "departments[7].parent",
    );
}

#[test]
fn parent_at_the_wrong_level() {
    let files = changed(
        "departments.yaml",
        "parent: \"410105001\"",
        "parent: \"410105\"",
    );
    only(
        files,
        "bad_level",
        "departments.yaml",
        "level: community",
        "departments[7].level",
    );
}

#[test]
fn department_below_the_city_needs_a_parent() {
    let files = changed("departments.yaml", "    parent: \"410105\"\n", "");
    only(
        files,
        "missing_parent",
        "departments.yaml",
        "code: \"410105001\"",
        "departments[6].parent",
    );
}

#[test]
fn parents_in_a_loop() {
    let files = changed(
        "departments.yaml",
        "    name_en: Zhengzhou Municipal Government\n",
        "    name_en: Zhengzhou Municipal Government\n    parent: 410100-MZ\n",
    );
    let e = only(
        files,
        "parent_cycle",
        "departments.yaml",
        "parent: 410100-MZ",
        "departments[0].parent",
    );
    assert!(e.message.en.contains("410100 → 410100-MZ → 410100"), "{e}");
}

#[test]
fn undefined_life_event() {
    let files = changed(
        "items/minzheng.yaml",
        "life_events: [marriage]",
        "life_events: [wedding]",
    );
    only(
        files,
        "unknown_life_event",
        "items/minzheng.yaml",
        "wedding",
        "items[0].life_events[0]",
    );
}

#[test]
fn undefined_code_list() {
    let files = changed(
        "elements/person.yaml",
        "code_list: ethnic_group",
        "code_list: ethnic",
    );
    only(
        files,
        "unknown_code_list",
        "elements/person.yaml",
        "code_list: ethnic",
        "elements[4].code_list",
    );
}

#[test]
fn undefined_element_in_a_form() {
    let files = changed(
        "items/minzheng.yaml",
        "element: person.wedding_date",
        "element: person.weding_date",
    );
    let e = only(
        files,
        "unknown_element",
        "items/minzheng.yaml",
        "person.weding_date",
        "items[0].form.pages[1].fields[2].element",
    );
    assert!(
        e.message
            .en
            .starts_with("unknown data element \"person.weding_date\""),
        "{e}"
    );
    assert!(e.to_string().starts_with(&format!(
        "items/minzheng.yaml:{}:24: items[0].form.pages[1].fields[2].element: unknown data element",
        e.line
    )), "{e}");
}

#[test]
fn undefined_element_in_shared_data() {
    let files = changed(
        "materials.yaml",
        "elements: [household.id, household.address]",
        "elements: [household.id, household.adress]",
    );
    only(
        files,
        "unknown_element",
        "materials.yaml",
        "household.adress",
        "materials[0].elements[1]",
    );
}

#[test]
fn undefined_material() {
    let files = changed(
        "items/newborn.yaml",
        "      - material: medical_report\n",
        "      - material: medical_repot\n",
    );
    only(
        files,
        "unknown_material",
        "items/newborn.yaml",
        "medical_repot",
        "items[0].materials[0].material",
    );
}

#[test]
fn undefined_item_in_a_bundle() {
    let files = changed(
        "bundles/newborn.yaml",
        "item: 410100-YB-0002",
        "item: 410100-YB-0009",
    );
    let e = only(
        files,
        "unknown_item",
        "bundles/newborn.yaml",
        "410100-YB-0009",
        "bundles[0].items[2].item",
    );
    assert!(
        e.message.en.starts_with("no item \"410100-YB-0009\""),
        "{e}"
    );
}

#[test]
fn undefined_bundle_in_includes() {
    let files = changed(
        "bundles/newborn.yaml",
        "includes: [newborn_community]",
        "includes: [newborn_comunity]",
    );
    only(
        files,
        "unknown_bundle",
        "bundles/newborn.yaml",
        "newborn_comunity",
        "bundles[0].includes[0]",
    );
}

// ------------------------------------------------------------------ rules

#[test]
fn rule_that_does_not_parse() {
    let files = changed(
        "items/minzheng.yaml",
        "\"male\" || person.age >= 22",
        "\"male\" || person.age >= >= 22",
    );
    only(
        files,
        "bad_rule",
        "items/minzheng.yaml",
        ">= >=",
        "items[0].conditions.rules[0].expr",
    );
}

#[test]
fn rule_too_long() {
    let long = format!("when: '{}true'", "person.age > 1 && ".repeat(120));
    let files = changed("items/minzheng.yaml", "when: person.age >= 22", &long);
    only(
        files,
        "rule_too_long",
        "items/minzheng.yaml",
        "when: 'person",
        "items[0].form.pages[1].fields[2].when",
    );
}

#[test]
fn rule_naming_an_undefined_element() {
    let files = changed(
        "items/minzheng.yaml",
        "when: person.age >= 22",
        "when: person.agee >= 22",
    );
    let e = only(
        files,
        "unknown_element",
        "items/minzheng.yaml",
        "person.agee",
        "items[0].form.pages[1].fields[2].when",
    );
    assert!(e.message.en.contains("person.agee"), "{e}");
}

#[test]
fn rule_naming_only_a_subject() {
    let files = changed(
        "items/minzheng.yaml",
        "when: person.age >= 22",
        "when: person > 1 && person.age > 1",
    );
    let errs = errors(files);
    assert!(
        errs.iter()
            .all(|e| e.path == "items[0].form.pages[1].fields[2].when"),
        "{errs:#?}"
    );
    assert!(
        errs.iter().any(
            |e| e.code == "unknown_element" && e.message.en.contains("\"person\" is a subject")
        ),
        "{errs:#?}"
    );
}

#[test]
fn rule_using_a_function_not_allowed() {
    let files = changed(
        "items/minzheng.yaml",
        "when: person.age >= 22",
        "when: '[1,2].exists(x, x > person.age)'",
    );
    only(
        files,
        "rule_not_allowed",
        "items/minzheng.yaml",
        "exists",
        "items[0].form.pages[1].fields[2].when",
    );
}

#[test]
fn hostile_rules_are_refused_without_a_panic() {
    let deep = format!("when: '{}1{}'", "(".repeat(600), ")".repeat(600));
    let files = changed("items/minzheng.yaml", "when: person.age >= 22", &deep);
    only(
        files,
        "bad_rule",
        "items/minzheng.yaml",
        "when: '((",
        "items[0].form.pages[1].fields[2].when",
    );
    for garbage in [
        "'\"'",
        "'`'",
        "'\\u0000'",
        "'🙂 ? : ]'",
        "')))'",
        "'a.b.c('",
    ] {
        let files = changed(
            "items/minzheng.yaml",
            "when: person.age >= 22",
            &format!("when: {garbage}"),
        );
        let errs = errors(files);
        assert!(!errs.is_empty(), "{garbage}");
    }
}

// ---------------------------------------------------------------- bundles

#[test]
fn bundle_including_itself_through_others() {
    let files = changed(
        "bundles/community.yaml",
        "    life_events: [birth]\n",
        "    life_events: [birth]\n    includes: [newborn]\n",
    );
    // The loop is reported once, at the include that closes it when searched from the first
    // bundle in path order.
    let e = only(
        files,
        "include_cycle",
        "bundles/newborn.yaml",
        "includes: [newborn_community]",
        "bundles[0].includes[0]",
    );
    assert!(
        e.message
            .en
            .contains("newborn_community → newborn → newborn_community"),
        "{e}"
    );
}

#[test]
fn bundle_including_itself() {
    let files = changed(
        "bundles/newborn.yaml",
        "includes: [newborn_community]",
        "includes: [newborn]",
    );
    only(
        files,
        "include_cycle",
        "bundles/newborn.yaml",
        "includes: [newborn]",
        "bundles[0].includes[0]",
    );
}

#[test]
fn bundle_without_items() {
    let files = added(
        "bundles/empty.yaml",
        "bundles:\n  - code: nothing\n    name: 空\n    items: []\n",
    );
    only(
        files,
        "empty_bundle",
        "bundles/empty.yaml",
        "items: []",
        "bundles[0].items",
    );
}

// ------------------------------------------------------- forms and elements

#[test]
fn field_type_contradicting_its_element() {
    let files = changed("items/minzheng.yaml", "type: id_number", "type: string");
    only(
        files,
        "type_mismatch",
        "items/minzheng.yaml",
        "type: string",
        "items[0].form.pages[1].fields[1].type",
    );
}

#[test]
fn code_element_without_code_list() {
    let files = changed(
        "elements/person.yaml",
        "    code_list: marital_status\n",
        "",
    );
    let line = line_after(
        &files,
        "elements/person.yaml",
        "code: person.marital_status",
        "type: code",
    );
    only_at(
        files,
        "missing_code_list",
        "elements/person.yaml",
        line,
        "elements[5].code_list",
    );
}

#[test]
fn invalid_pattern() {
    let files = changed(
        "elements/person.yaml",
        "pattern: \"^[0-9]{6}$\"",
        "pattern: \"^[0-9{6}$\"",
    );
    only(
        files,
        "bad_pattern",
        "elements/person.yaml",
        "pattern:",
        "elements[10].pattern",
    );
}

#[test]
fn pattern_without_a_hint() {
    let files = changed(
        "elements/person.yaml",
        "    hint: 6位数字，如 450000\n    hint_en: 6 digits, such as 450000\n",
        "",
    );
    only(
        files,
        "missing_hint",
        "elements/person.yaml",
        "pattern:",
        "elements[10].hint",
    );
}

#[test]
fn minimum_above_maximum() {
    let files = changed("elements/family.yaml", "minimum: 300", "minimum: 9000");
    only(
        files,
        "min_above_max",
        "elements/family.yaml",
        "minimum: 9000",
        "elements[4].minimum",
    );
    let files = changed("elements/family.yaml", "min_length: 1", "min_length: 30");
    only(
        files,
        "min_above_max",
        "elements/family.yaml",
        "min_length: 30",
        "elements[2].min_length",
    );
}

#[test]
fn facet_that_does_not_fit_the_type() {
    let files = changed(
        "elements/person.yaml",
        "    type: phone\n",
        "    type: phone\n    maximum: 3\n",
    );
    only(
        files,
        "not_applicable",
        "elements/person.yaml",
        "maximum: 3",
        "elements[2].maximum",
    );
}

// ------------------------------------------------------------- materials

#[test]
fn licence_material_without_licence_type() {
    let files = changed(
        "materials.yaml",
        "    licence_type: marriage_certificate\n",
        "",
    );
    let line = line_after(
        &files,
        "materials.yaml",
        "code: marriage_certificate",
        "satisfied_by",
    );
    only_at(
        files,
        "missing_licence_type",
        "materials.yaml",
        line,
        "materials[1].licence_type",
    );
}

#[test]
fn shared_data_material_without_elements() {
    let files = changed(
        "materials.yaml",
        "    elements: [household.id, household.address]\n",
        "",
    );
    let line = line_after(
        &files,
        "materials.yaml",
        "code: household_register",
        "satisfied_by",
    );
    only_at(
        files,
        "missing_elements",
        "materials.yaml",
        line,
        "materials[0].elements",
    );
}

#[test]
fn commitment_material_without_text() {
    let files = changed(
        "materials.yaml",
        "    text: 本人承诺，本人目前没有配偶，也没有与对方有直系血亲和三代以内旁系血亲关系。\n    text_en: I declare that I have no spouse and am not closely related to the other party.\n",
        "",
    );
    let line = line_after(
        &files,
        "materials.yaml",
        "code: no_other_marriage_commitment",
        "satisfied_by",
    );
    only_at(
        files,
        "missing_commitment_text",
        "materials.yaml",
        line,
        "materials[3].text",
    );
}

// ------------------------------------------------------- texts and numbers

#[test]
fn empty_text() {
    let files = changed("life_events.yaml", "name: 住房", "name: \"  \"");
    only(
        files,
        "empty_text",
        "life_events.yaml",
        "name: \"  \"",
        "life_events[2].name",
    );
}

#[test]
fn negative_time_limit_and_promise_beyond_the_law() {
    let files = changed(
        "items/newborn.yaml",
        "time_limit: {legal: 5, promised: 1}",
        "time_limit: {legal: -5, promised: 1}",
    );
    let errs = errors(files);
    let codes: Vec<&str> = errs.iter().map(|e| e.code).collect();
    assert_eq!(
        codes,
        vec!["out_of_range", "promised_above_legal"],
        "{errs:#?}"
    );
    assert_eq!(errs[0].path, "items[0].time_limit.legal");
    let files = changed(
        "items/newborn.yaml",
        "time_limit: {legal: 10, promised: 3}",
        "time_limit: {legal: 10, promised: 30}",
    );
    only(
        files,
        "promised_above_legal",
        "items/newborn.yaml",
        "promised: 30",
        "items[1].time_limit.promised",
    );
}

#[test]
fn visits_and_online_depth_out_of_range() {
    let files = changed("items/minzheng.yaml", "    visits: 1\n", "    visits: 2\n");
    only(
        files,
        "out_of_range",
        "items/minzheng.yaml",
        "visits: 2",
        "items[0].visits",
    );
    let files = changed("items/minzheng.yaml", "online_depth: 3", "online_depth: 5");
    only(
        files,
        "out_of_range",
        "items/minzheng.yaml",
        "online_depth: 5",
        "items[0].online_depth",
    );
}

#[test]
fn every_error_is_reported_at_once() {
    let mut files = changed(
        "items/minzheng.yaml",
        "element: person.wedding_date",
        "element: person.weding_date",
    );
    let f = files
        .iter_mut()
        .find(|(p, _)| p == "bundles/newborn.yaml")
        .expect("file");
    f.1 = f.1.replace("item: 410100-YB-0002", "item: 410100-YB-0009");
    let f = files
        .iter_mut()
        .find(|(p, _)| p == "materials.yaml")
        .expect("file");
    f.1 = f.1.replace("    licence_type: birth_certificate\n", "");
    let errs = errors(files);
    let mut codes: Vec<&str> = errs.iter().map(|e| e.code).collect();
    codes.sort();
    assert_eq!(
        codes,
        vec!["missing_licence_type", "unknown_element", "unknown_item"],
        "{errs:#?}"
    );
    for e in &errs {
        assert!(e.line > 0 && e.column > 0, "{e}");
    }
}

// -------------------------------------------------------------- licence types

#[test]
fn licence_types_load_with_their_printed_elements() {
    let c = Catalog::load_dir(fixture_dir()).expect("loads");
    assert_eq!(c.licence_types().len(), 3);
    let m = c.licence_type("marriage_certificate").expect("type");
    assert_eq!(m.name, "结婚证");
    assert_eq!(m.type_code, "1102");
    assert_eq!(m.issuer, "410100-MZ");
    assert_eq!(m.holder, catalog::HolderKind::Person);
    assert_eq!(m.validity_years, None);
    assert_eq!(m.elements[0], "person.name");
    let s = c.licence_type("social_org_certificate").expect("type");
    assert_eq!(s.holder, catalog::HolderKind::Company);
    assert_eq!(s.validity_years, Some(5));
    assert!(c.licence_type("nope").is_none());
}

#[test]
fn every_licence_type_the_demo_catalog_names_is_defined() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../catalog"));
    let c = Catalog::load_dir(dir).expect("the demo catalog loads");
    assert!(c.licence_types().len() >= 20);
    for t in c.licence_types() {
        assert!(c.department(&t.issuer).is_some(), "{}", t.code);
        assert!(!t.elements.is_empty(), "{}", t.code);
    }
    for name in [
        "居民身份证",
        "户口簿",
        "结婚证",
        "出生医学证明",
        "不动产权证书",
        "营业执照",
        "居住证",
        "社会保障卡",
        "健康证",
        "驾驶证",
        "网络预约出租汽车驾驶员证",
        "学历证书",
        "残疾人证",
        "预防接种证",
    ] {
        assert!(
            c.licence_types().iter().any(|t| t.name.contains(name)),
            "no licence type named like {name}"
        );
    }
}

#[test]
fn material_naming_an_undefined_licence_type() {
    let files = changed(
        "materials.yaml",
        "    licence_type: marriage_certificate\n",
        "    licence_type: marriage_certificat\n",
    );
    let e = only(
        files,
        "unknown_licence_type",
        "materials.yaml",
        "licence_type: marriage_certificat",
        "materials[1].licence_type",
    );
    assert!(
        e.message
            .en
            .contains("did you mean \"marriage_certificate\""),
        "{e}"
    );
}

#[test]
fn item_result_naming_an_undefined_licence_type() {
    let files = changed(
        "items/minzheng.yaml",
        "      licence_type: marriage_certificate\n",
        "      licence_type: wedding_photo\n",
    );
    only(
        files,
        "unknown_licence_type",
        "items/minzheng.yaml",
        "wedding_photo",
        "items[0].result.licence_type",
    );
}

#[test]
fn duplicate_licence_type_code_across_files() {
    let files = added(
        "more_licences.yaml",
        "licence_types:\n  - code: birth_certificate\n    name: 出生证\n    type_code: \"1999\"\n    issuer: 410100-WJ\n    holder: person\n    validity: none\n    elements: [child.name]\n",
    );
    let e = only(
        files,
        "duplicate_code",
        "more_licences.yaml",
        "birth_certificate",
        "licence_types[0].code",
    );
    assert!(e.message.en.contains("licence_types.yaml:"), "{e}");
}

#[test]
fn duplicate_licence_type_catalogue_code() {
    let files = changed(
        "licence_types.yaml",
        "type_code: \"1201\"",
        "type_code: \"1102\"",
    );
    let line = line_after(
        &files,
        "licence_types.yaml",
        "code: birth_certificate",
        "type_code",
    );
    only_at(
        files,
        "duplicate_type_code",
        "licence_types.yaml",
        line,
        "licence_types[1].type_code",
    );
}

#[test]
fn licence_type_of_an_unknown_department() {
    let files = changed(
        "licence_types.yaml",
        "issuer: 410100-WJ",
        "issuer: 410100-WJW",
    );
    only(
        files,
        "unknown_department",
        "licence_types.yaml",
        "410100-WJW",
        "licence_types[1].issuer",
    );
}

#[test]
fn licence_type_printing_an_unknown_element() {
    let files = changed(
        "licence_types.yaml",
        "[child.name, child.birth_date,",
        "[child.name, child.birthday,",
    );
    let e = only(
        files,
        "unknown_element",
        "licence_types.yaml",
        "child.birthday",
        "licence_types[1].elements[1]",
    );
    assert_eq!(
        e.column,
        column_of(&good_files(), "licence_types.yaml", "child.birth_date")
    );
}

#[test]
fn licence_type_with_bad_validity_type_code_and_holder() {
    let files = changed("licence_types.yaml", "validity: 5", "validity: forever");
    only(
        files,
        "bad_validity",
        "licence_types.yaml",
        "validity: forever",
        "licence_types[2].validity",
    );
    let files = changed(
        "licence_types.yaml",
        "type_code: \"2103\"",
        "type_code: \"21-3\"",
    );
    only(
        files,
        "bad_type_code",
        "licence_types.yaml",
        "21-3",
        "licence_types[2].type_code",
    );
    let files = changed("licence_types.yaml", "holder: company", "holder: robot");
    only(
        files,
        "bad_value",
        "licence_types.yaml",
        "holder: robot",
        "licence_types[2].holder",
    );
}

// ---------------------------------------------------------------- live

#[test]
fn live_catalog_keeps_the_old_version_on_a_failed_load() {
    let live = LiveCatalog::new(Catalog::load_files(good_files()).expect("loads"));
    let before = live.current().digest().to_string();
    let reader = live.clone();
    let held = reader.current();
    let bad = changed("items/minzheng.yaml", "type: id_number", "type: string");
    assert!(live.load_files(bad).is_err());
    assert_eq!(live.current().digest(), before);
    assert_eq!(reader.current().digest(), before);

    let better = changed("life_events.yaml", "Housing", "Housing and renting");
    let now = live.load_files(better).expect("loads");
    assert_ne!(now.digest(), before);
    assert_eq!(
        reader.current().digest(),
        now.digest(),
        "clones share the live version"
    );
    // A reader keeps the version it took for as long as it holds it.
    assert_eq!(held.digest(), before);

    live.swap(Catalog::load_files(good_files()).expect("loads"));
    assert_eq!(reader.current().digest(), before);
}

#[test]
fn live_catalog_is_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<LiveCatalog>();
    let live = LiveCatalog::new(Catalog::load_files(good_files()).expect("loads"));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let l = live.clone();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    assert_eq!(l.current().items().len(), 6);
                }
            })
        })
        .collect();
    for _ in 0..20 {
        live.swap(Catalog::load_files(good_files()).expect("loads"));
    }
    for h in handles {
        h.join().expect("reader");
    }
}

// ------------------------------------------------------------ synthetic

#[test]
fn synthetic_catalog_of_5000_items_loads() {
    let files = catalog::synthetic(5000);
    let c = Catalog::load_files(files).unwrap_or_else(|e| panic!("{}", e[0]));
    assert_eq!(c.items().len(), 5000);
    assert!(c.bundles().len() >= 10);
    assert!(c.departments().len() >= 10);
    for b in c.bundles().iter().take(5) {
        let m = c.merge(&b.code, &[]).expect("merges");
        assert!(m.fields_after_merge <= m.fields_before_merge);
    }
}
