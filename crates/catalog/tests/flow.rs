//! Forms as screens: follow-up questions, per-screen answers and the final check, on the
//! shipped demo catalog.

use std::path::Path;

use catalog::Catalog;
use catalog::flow::{Answers, Flow, Input};
use serde_json::{Value, json};

fn demo() -> Catalog {
    Catalog::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../catalog"))
        .expect("the demo catalog loads")
}

fn answers(v: Value) -> Answers {
    v.as_object().cloned().unwrap()
}

fn posted(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The first item with a page of two questions: how to collect the result, and a postal
/// address only when it is by post.
fn item_with_delivery(c: &Catalog) -> String {
    c.items()
        .iter()
        .find(|i| {
            i.form.pages.iter().any(|p| {
                p.fields.len() == 2
                    && p.fields.iter().any(|f| {
                        f.element == "application.delivery_address"
                            && f.when.as_deref() == Some(r#"application.delivery_method == "3""#)
                    })
            })
        })
        .map(|i| i.code.clone())
        .expect("the demo catalog has such an item")
}

fn screen_of(flow: &Flow, element: &str) -> usize {
    flow.screens()
        .iter()
        .position(|s| s.questions.iter().any(|q| q.element == element))
        .unwrap()
}

#[test]
fn a_follow_up_question_gets_its_own_screen_after_the_one_it_follows() {
    let c = demo();
    let flow = c.item_flow(&item_with_delivery(&c)).unwrap();
    let method = screen_of(&flow, "application.delivery_method");
    let address = screen_of(&flow, "application.delivery_address");
    assert_eq!(address, method + 1);
    assert_eq!(flow.screens()[address].step, 1);
    assert_eq!(flow.screens()[address].page, flow.screens()[method].page);
    assert_eq!(
        flow.screens()[method].questions[0].input,
        Input::Radios,
        "a short code list is radio buttons"
    );

    // Collecting at a window: the address screen is skipped.
    let window = answers(json!({"application.delivery_method": "1"}));
    assert!(!flow.is_shown(address, &window));
    assert_ne!(flow.next(method, &window), Some(address));
    // By post: it is asked, and going back from it returns to the method.
    let post = answers(json!({"application.delivery_method": "3"}));
    assert_eq!(flow.next(method, &post), Some(address));
    assert_eq!(flow.previous(address, &post), Some(method));
}

#[test]
fn a_screen_is_checked_and_nothing_of_a_refused_one_is_taken() {
    let c = demo();
    let flow = c.item_flow(&item_with_delivery(&c)).unwrap();
    let first = flow.first(&Answers::new()).unwrap();
    let before = answers(json!({"person.name": "张三"}));
    let refused = flow
        .answer(
            first,
            &posted(&[
                ("person.name", ""),
                ("person.id_number", "410102199001011235"),
                ("person.phone", "12345"),
            ]),
            &before,
            &[],
        )
        .unwrap_err();
    let fields: Vec<&str> = refused.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        vec!["person.name", "person.id_number", "person.phone"],
        "{:?}",
        refused.errors
    );
    assert_eq!(refused.errors[0].code, "required");
    assert_eq!(refused.typed["person.phone"], json!("12345"));

    let ok = flow
        .answer(
            first,
            &posted(&[
                ("person.name", "  李四 "),
                ("person.id_number", "11010519491231002x"),
                ("person.phone", "13800138000"),
            ]),
            &before,
            &[],
        )
        .unwrap();
    assert_eq!(ok["person.name"], json!("李四"));
    assert_eq!(
        ok["person.id_number"],
        json!("11010519491231002X"),
        "the check letter is upper-cased"
    );
}

#[test]
fn locked_answers_stay_whatever_is_posted() {
    let c = demo();
    let flow = c.item_flow(&item_with_delivery(&c)).unwrap();
    let first = flow.first(&Answers::new()).unwrap();
    let before = answers(json!({"person.name": "王五", "person.id_number": "11010519491231002X"}));
    let ok = flow
        .answer(
            first,
            &posted(&[
                ("person.name", "冒名"),
                ("person.id_number", "110105194912310021"),
                ("person.phone", "13800138000"),
            ]),
            &before,
            &["person.name".into(), "person.id_number".into()],
        )
        .unwrap();
    assert_eq!(ok["person.name"], json!("王五"));
    assert_eq!(ok["person.id_number"], json!("11010519491231002X"));
}

#[test]
fn changing_an_answer_drops_the_follow_ups_it_no_longer_asks() {
    let c = demo();
    let flow = c.item_flow(&item_with_delivery(&c)).unwrap();
    let method = screen_of(&flow, "application.delivery_method");
    let by_post = answers(json!({
        "application.delivery_method": "3",
        "application.delivery_address": "郑州市金水区花园路1号",
    }));
    let at_window = flow
        .answer(
            method,
            &posted(&[("application.delivery_method", "1")]),
            &by_post,
            &[],
        )
        .unwrap();
    assert!(!at_window.contains_key("application.delivery_address"));
    assert_eq!(at_window["application.delivery_method"], json!("1"));
}

#[test]
fn the_final_check_names_each_missing_answer_and_its_screen() {
    let c = demo();
    let flow = c.item_flow(&item_with_delivery(&c)).unwrap();
    let address = screen_of(&flow, "application.delivery_address");
    let partial = answers(json!({
        "person.name": "李四",
        "person.id_number": "11010519491231002X",
        "person.phone": "13800138000",
        "application.delivery_method": "3",
    }));
    let problems = flow.check(&partial);
    assert!(
        problems
            .iter()
            .any(|(s, e)| *s == address && e.field == "application.delivery_address"),
        "{problems:?}"
    );
    let mut complete = partial.clone();
    complete.insert(
        "application.delivery_address".into(),
        json!("郑州市金水区花园路1号"),
    );
    let left: Vec<String> = flow
        .check(&complete)
        .into_iter()
        .map(|(_, e)| e.field)
        .collect();
    assert!(left.is_empty(), "unexpected problems: {left:?}");

    let summary = flow.summary(&complete);
    let rows: Vec<_> = summary.iter().flat_map(|s| s.rows.iter()).collect();
    let id = rows
        .iter()
        .find(|r| r.element == "person.id_number")
        .unwrap();
    assert_eq!(
        id.shown,
        kernel::ids::mask_id_number("11010519491231002X"),
        "ID numbers are masked"
    );
    let method = rows
        .iter()
        .find(|r| r.element == "application.delivery_method")
        .unwrap();
    assert_ne!(method.shown, "3", "a code is shown by its name");
}

#[test]
fn a_bundle_flow_asks_each_element_once() {
    let c = demo();
    let flow = c.bundle_flow("newborn", &[]).unwrap();
    let mut seen = std::collections::HashSet::new();
    for s in flow.screens() {
        for q in &s.questions {
            assert!(seen.insert(q.element.clone()), "{} asked twice", q.element);
        }
    }
    let merged = c.merge("newborn", &[]).unwrap();
    assert_eq!(seen.len(), merged.fields_after_merge);
}
