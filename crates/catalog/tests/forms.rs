//! Bundles merged into one application, forms as JSON Schema, and submissions validated
//! against them.

use std::path::Path;

use catalog::{Catalog, MergeError, Satisfaction, validate_submission};
use serde_json::{Value, json};

fn fixture() -> Catalog {
    Catalog::load_dir(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/good"
    )))
    .expect("the good fixture loads")
}

// ------------------------------------------------------------------ merge

#[test]
fn merge_dedupes_fields_and_materials() {
    let c = fixture();
    let m = c.merge("newborn", &[]).expect("merges");
    // Required items of the bundle, then the required item of the included bundle.
    assert_eq!(
        m.items,
        vec!["410100-WJ-0001", "410100-GA-0003", "410105001001-0001"]
    );
    // 6 + 6 + 3 fields; person.name, person.id_number, child.name, child.birth_date shared.
    assert_eq!(m.fields_before_merge, 15);
    assert_eq!(m.fields_after_merge, 9);
    assert!(m.fields_before_merge > m.fields_after_merge);
    // medical_report; birth_certificate, household_register; household_register, birth_certificate.
    assert_eq!(m.materials_before_merge, 5);
    assert_eq!(m.materials_after_merge, 3);
    let codes: Vec<&str> = m.materials.iter().map(|x| x.material.as_str()).collect();
    assert_eq!(
        codes,
        vec!["medical_report", "birth_certificate", "household_register"]
    );
    let birth = &m.materials[1];
    assert_eq!(birth.items, vec!["410100-GA-0003", "410105001001-0001"]);
    assert_eq!(birth.satisfied_by, Satisfaction::Licence);
    assert!(birth.required);

    // Pages of the same title become one; the first item's page and label win.
    let titles: Vec<&str> = m.pages.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(titles, vec!["申请人", "新生儿"]);
    let baby = &m.pages[1];
    assert_eq!(baby.fields[0].element, "child.name");
    assert_eq!(
        baby.fields[0].label, "新生儿姓名",
        "the first item's label wins"
    );
    let all: Vec<&str> = m
        .pages
        .iter()
        .flat_map(|p| p.fields.iter().map(|f| f.element.as_str()))
        .collect();
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), all.len(), "each element once: {all:?}");
    assert!(
        all.contains(&"person.address"),
        "the included bundle's fields come along"
    );
}

#[test]
fn merge_honours_optional_items() {
    let c = fixture();
    let without = c.merge("newborn", &[]).expect("merges");
    let with = c
        .merge(
            "newborn",
            &["410100-YB-0002".to_string(), "410105-0001".to_string()],
        )
        .expect("merges");
    assert_eq!(with.items.len(), without.items.len() + 2);
    assert!(with.items.contains(&"410100-YB-0002".to_string()));
    assert!(
        with.items.contains(&"410105-0001".to_string()),
        "optional item of an included bundle"
    );
    assert!(with.fields_after_merge > without.fields_after_merge);
    assert!(with.schema["properties"]["person.postcode"].is_object());
    assert!(
        without.schema["properties"]
            .get("person.postcode")
            .is_none()
    );
    // An optional, conditional field stays out of `required`.
    let required = with.schema["required"].as_array().expect("required");
    assert!(!required.contains(&json!("housing_fund.balance")));
    assert!(required.contains(&json!("child.birth_date")));
}

#[test]
fn merge_refuses_unknown_bundles_and_items_not_in_the_bundle() {
    let c = fixture();
    assert_eq!(
        c.merge("nope", &[]).unwrap_err(),
        MergeError::UnknownBundle("nope".into())
    );
    let e = c
        .merge("newborn", &["410100-MZ-0001".to_string()])
        .unwrap_err();
    assert_eq!(e.code(), "not_optional");
    assert!(e.message().zh.contains("410100-MZ-0001"));
}

#[test]
fn included_bundle_merges_on_its_own() {
    let c = fixture();
    let m = c.merge("newborn_community", &[]).expect("merges");
    assert_eq!(m.items, vec!["410105001001-0001"]);
    assert_eq!(m.fields_before_merge, m.fields_after_merge);
}

// ----------------------------------------------------------------- schema

#[test]
fn item_schema_follows_the_elements() {
    let c = fixture();
    let s = c.item_schema("410100-MZ-0001").expect("schema");
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(s["type"], "object");
    let p = &s["properties"];
    assert_eq!(p["person.id_number"]["pattern"], "^[0-9]{17}[0-9X]$");
    assert_eq!(p["person.name"]["maxLength"], 50);
    assert_eq!(p["person.name"]["title"], "姓名");
    assert_eq!(p["person.wedding_date"]["format"], "date");
    assert_eq!(
        s["required"],
        json!([
            "person.name",
            "person.id_number",
            "person.phone",
            "spouse.name",
            "spouse.id_number"
        ])
    );
    let g = c.item_schema("410100-GA-0003").expect("schema");
    assert_eq!(
        g["properties"]["person.ethnic_group"]["enum"],
        json!(["01", "03"])
    );
    let f = c.item_schema("410105-0001").expect("schema");
    assert_eq!(f["properties"]["housing_fund.balance"]["type"], "number");
    assert_eq!(f["properties"]["housing_fund.balance"]["minimum"], 0);
    let w = c.item_schema("410100-WJ-0001").expect("schema");
    assert_eq!(w["properties"]["child.birth_weight_g"]["type"], "integer");
    assert_eq!(w["properties"]["child.birth_weight_g"]["maximum"], 8000);
    assert!(c.item_schema("nope").is_none());
    // A bundle's code gives the merged form of its required items.
    assert_eq!(
        c.item_schema("newborn").expect("schema"),
        c.merge("newborn", &[]).expect("merges").schema
    );
}

/// A valid ID number with the right check digit, born 1990-01-01 in Zhengzhou.
fn id_number() -> String {
    kernel::IdNumber::from_parts(
        410105,
        chrono::NaiveDate::from_ymd_opt(1990, 1, 1).expect("date"),
        123,
    )
    .as_str()
    .to_string()
}

fn good_submission() -> Value {
    json!({
        "person.name": "张三",
        "person.id_number": id_number(),
        "household.address": "郑州市金水区经八路1号",
        "child.name": "张小宝",
        "child.birth_date": "2026-03-01",
        "person.ethnic_group": "01",
    })
}

fn field_errors(submission: &Value) -> Vec<kernel::FieldError> {
    let c = fixture();
    let s = c.item_schema("410100-GA-0003").expect("schema");
    validate_submission(&s, submission).expect_err("refused")
}

#[test]
fn good_submission_is_accepted() {
    let c = fixture();
    let s = c.item_schema("410100-GA-0003").expect("schema");
    assert_eq!(validate_submission(&s, &good_submission()), Ok(()));
    assert_eq!(
        c.validate_item_submission("410100-GA-0003", &good_submission()),
        Some(Ok(()))
    );
}

#[test]
fn bad_id_number_is_refused() {
    let mut sub = good_submission();
    let mut id = id_number();
    let last = if id.ends_with('1') { "2" } else { "1" };
    id.replace_range(17.., last);
    sub["person.id_number"] = json!(id);
    let errs = field_errors(&sub);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].field, "person.id_number");
    assert_eq!(errs[0].code, "checksum");
    assert!(errs[0].message.zh.contains("校验位"));
    assert!(errs[0].message.en.contains("check digit"));

    sub["person.id_number"] = json!("12345");
    let errs = field_errors(&sub);
    assert_eq!(
        (errs[0].field.as_str(), errs[0].code.as_str()),
        ("person.id_number", "format")
    );
}

#[test]
fn value_outside_the_code_list_is_refused() {
    let mut sub = good_submission();
    sub["person.ethnic_group"] = json!("99");
    let errs = field_errors(&sub);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].field, "person.ethnic_group");
    assert_eq!(errs[0].code, "not_in_list");
    assert!(
        errs[0].message.zh.starts_with("新生儿民族"),
        "the field's label: {:?}",
        errs[0].message
    );
}

#[test]
fn missing_required_field_is_refused() {
    let mut sub = good_submission();
    sub.as_object_mut().expect("object").remove("child.name");
    sub["household.address"] = json!("");
    let errs = field_errors(&sub);
    let fields: Vec<(&str, &str)> = errs
        .iter()
        .map(|e| (e.field.as_str(), e.code.as_str()))
        .collect();
    assert_eq!(fields.len(), 2, "{errs:?}");
    assert!(fields.contains(&("child.name", "required")));
    assert!(
        fields.contains(&("household.address", "required")),
        "an empty answer is no answer"
    );
    let e = errs
        .iter()
        .find(|e| e.field == "child.name")
        .expect("child.name");
    assert_eq!(e.message.zh, "请填写新生儿姓名（与出生医学证明一致）");
    assert_eq!(e.message.en, "Enter Baby's name");
}

#[test]
fn other_bad_values_are_refused_per_element() {
    let mut sub = good_submission();
    sub["child.birth_date"] = json!("2026-02-30");
    sub["extra"] = json!(1);
    let errs = field_errors(&sub);
    let fields: Vec<(&str, &str)> = errs
        .iter()
        .map(|e| (e.field.as_str(), e.code.as_str()))
        .collect();
    assert!(
        fields.contains(&("child.birth_date", "format")),
        "{fields:?}"
    );
    assert!(fields.contains(&("extra", "unknown_field")), "{fields:?}");

    let c = fixture();
    let s = c.item_schema("410100-WJ-0001").expect("schema");
    let sub = json!({
        "person.name": "李四",
        "person.id_number": id_number(),
        "person.phone": "12345",
        "child.name": "李小宝",
        "child.birth_date": "2026-03-01",
        "child.birth_weight_g": 100,
    });
    let errs = validate_submission(&s, &sub).expect_err("refused");
    let fields: Vec<(&str, &str)> = errs
        .iter()
        .map(|e| (e.field.as_str(), e.code.as_str()))
        .collect();
    assert!(fields.contains(&("person.phone", "format")), "{fields:?}");
    assert!(
        fields.contains(&("child.birth_weight_g", "too_small")),
        "{fields:?}"
    );

    let s = c.item_schema("410105-0001").expect("schema");
    let base = json!({"person.name": "王五", "person.id_number": id_number()});
    for (amount, ok) in [
        (json!(0.07), true),
        (json!(1234.5), true),
        (json!(1.005), false),
        (json!(-1), false),
    ] {
        let mut sub = base.clone();
        sub["housing_fund.balance"] = amount.clone();
        assert_eq!(validate_submission(&s, &sub).is_ok(), ok, "{amount}");
    }
    assert!(validate_submission(&s, &json!([1])).is_err());
}
