//! The catalog API over HTTP on both engines: listing, bundles with their merged form, and
//! publishing a new version that goes live on every instance without a restart.

mod common;

use common::TestServer;
use serde_json::{Value, json};

const NEW_BUNDLE: &str = "bundles:
  - code: marriage_and_home
    name: 婚房一件事
    name_en: Married and moving in
    keywords: [婚房, 新婚]
    life_events: [birth]
    items:
      - item: 410100-MZ-0001
      - item: 410100-GA-0003
        required: false
";

async fn get_json(s: &TestServer, path: &str) -> (u16, Value) {
    let res = s.client.get(s.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn lists_are_paged_with_a_total(s: TestServer) {
    let (status, all) = get_json(&s, "/api/v1/catalog/items").await;
    assert_eq!(status, 200);
    let total = all["total"].as_u64().unwrap();
    assert_eq!(total, 6, "{all}");
    let (_, page) = get_json(&s, "/api/v1/catalog/items?per_page=4&page=2").await;
    assert_eq!(page["total"], total);
    assert_eq!(page["results"].as_array().unwrap().len(), 2);
    let (_, gov) = get_json(&s, "/api/v1/catalog/items?department=410100-MZ").await;
    assert_eq!(gov["total"], 1);
    assert_eq!(gov["results"][0]["code"], "410100-MZ-0001");
    assert_eq!(gov["results"][0]["department_name"], "郑州市民政局");
    let (status, p) = get_json(&s, "/api/v1/catalog/items?per_page=0").await;
    assert_eq!(
        (status, p["code"].as_str().unwrap()),
        (400, "validation_failed")
    );
    let (_, bundles) = get_json(&s, "/api/v1/catalog/bundles").await;
    assert_eq!(bundles["total"], 2);
    let (status, item) = get_json(&s, "/api/v1/catalog/items/410100-MZ-0001").await;
    assert_eq!(status, 200);
    assert!(
        item["conditions"]["rules"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
    );
    let (status, _) = get_json(&s, "/api/v1/catalog/items/NOPE").await;
    assert_eq!(status, 404);
    let (status, schema) = get_json(&s, "/api/v1/catalog/items/410100-MZ-0001/schema").await;
    assert_eq!(status, 200);
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    s.stop().await;
}
both_engines!(catalog_lists, lists_are_paged_with_a_total);

async fn bundles_show_the_merge(s: TestServer) {
    let (status, b) = get_json(&s, "/api/v1/catalog/bundles/newborn").await;
    assert_eq!(status, 200);
    let before = b["fields_before_merge"].as_u64().unwrap();
    let after = b["fields_after_merge"].as_u64().unwrap();
    assert!(after < before, "{before} → {after}");
    assert!(b["materials_after_merge"].as_u64() <= b["materials_before_merge"].as_u64());
    let (_, with_optional) = get_json(
        &s,
        "/api/v1/catalog/bundles/newborn?optional=410100-YB-0002",
    )
    .await;
    assert!(with_optional["fields_before_merge"].as_u64().unwrap() > before);
    let (status, p) = get_json(
        &s,
        "/api/v1/catalog/bundles/newborn?optional=410100-MZ-0001",
    )
    .await;
    assert_eq!((status, p["code"].as_str().unwrap()), (400, "not_optional"));
    let (status, _) = get_json(&s, "/api/v1/catalog/bundles/nothing").await;
    assert_eq!(status, 404);
    s.stop().await;
}
both_engines!(catalog_bundles, bundles_show_the_merge);

async fn publishing_goes_live_everywhere_and_bad_files_change_nothing(s: TestServer) {
    let other = s.another_instance().await;
    let admin = s.staff("admin7", identity::Role::PlatformAdmin).await;
    let reviewer = s.staff("reviewer7", identity::Role::Reviewer).await;
    let body =
        json!({"files": [{"path": "bundles/marriage_and_home.yaml", "content": NEW_BUNDLE}]});
    let url = s.url("/api/v1/catalog/versions");
    let (_, before) = get_json(&s, "/api/v1/catalog/versions").await;

    // Only a platform administrator may publish.
    assert_eq!(
        s.client
            .post(&url)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        s.client
            .post(&url)
            .bearer_auth(&reviewer)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    // A bad file: every error located, nothing changes.
    let bad = json!({"files": [{"path": "bundles/bad.yaml", "content": "bundles:\n  - code: broken\n    name: 坏的\n    items:\n      - item: NO-SUCH-ITEM\n"}]});
    let res = s
        .client
        .post(&url)
        .bearer_auth(&admin)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["code"], "invalid_catalog");
    let e = &p["load_errors"][0];
    assert_eq!(
        (e["file"].as_str().unwrap(), e["code"].as_str().unwrap()),
        ("bundles/bad.yaml", "unknown_item")
    );
    assert_eq!(e["line"], 5);
    assert_eq!(e["path"], "bundles[0].items[0].item");
    let (_, after_bad) = get_json(&s, "/api/v1/catalog/versions").await;
    assert_eq!(after_bad, before);

    // A good file: live here at once, and on the other instance at its next look.
    let res = s
        .client
        .post(&url)
        .bearer_auth(&admin)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let published: Value = res.json().await.unwrap();
    assert_eq!(published["bundles"], 3);
    let (status, b) = get_json(&s, "/api/v1/catalog/bundles/marriage_and_home").await;
    assert_eq!(status, 200, "{b}");
    let other_url = format!(
        "http://{}/api/v1/catalog/bundles/marriage_and_home",
        other.addr
    );
    let mut seen = false;
    for _ in 0..50 {
        if s.client.get(&other_url).send().await.unwrap().status() == 200 {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(seen, "the other instance took up the new version");
    other.stop().await;
    s.stop().await;
}
both_engines!(
    catalog_publish,
    publishing_goes_live_everywhere_and_bad_files_change_nothing
);

async fn search_answers_best_first(s: TestServer) {
    let (status, body) = get_json(
        &s,
        "/api/v1/catalog/search?q=%E5%AD%A9%E5%AD%90%E5%87%BA%E7%94%9F",
    )
    .await;
    assert_eq!(status, 200);
    let first = &body["results"][0];
    assert_eq!(
        (
            first["kind"].as_str().unwrap(),
            first["code"].as_str().unwrap()
        ),
        ("bundle", "newborn"),
        "{body}"
    );
    assert!(first["name"].as_str().is_some());
    let (status, body) = get_json(
        &s,
        "/api/v1/catalog/search?q=%E9%87%8F%E5%AD%90%E5%8A%9B%E5%AD%A6",
    )
    .await;
    assert_eq!(
        (status, body["results"].as_array().unwrap().len()),
        (200, 0)
    );
    let (status, p) = get_json(&s, "/api/v1/catalog/search?q=%20%20").await;
    assert_eq!(
        (status, p["code"].as_str().unwrap()),
        (400, "validation_failed")
    );
    let long = "a".repeat(101);
    let (status, _) = get_json(&s, &format!("/api/v1/catalog/search?q={long}")).await;
    assert_eq!(status, 400);
    s.stop().await;
}
both_engines!(catalog_search, search_answers_best_first);
