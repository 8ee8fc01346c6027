//! The catalog's pages over HTTP, as a browser without JavaScript uses them, on both engines.

mod common;

use common::{TestServer, client};

async fn text(c: &reqwest::Client, url: String) -> (u16, String) {
    let res = c.get(url).send().await.unwrap();
    (
        res.status().as_u16(),
        res.text().await.unwrap().replace("&#x2f;", "/"),
    )
}

async fn browse_guide_and_bundle(s: TestServer) {
    let c = client();
    let (status, home) = text(&c, s.url("/services")).await;
    assert_eq!(status, 200);
    assert!(home.contains("href=\"/services/bundles/newborn\""));
    assert!(home.contains("href=\"/services/life-events/birth\""));
    let (status, event) = text(&c, s.url("/services/life-events/birth")).await;
    assert_eq!(status, 200);
    assert!(event.contains("/services/items/410100-WJ-0001"));
    let (status, depts) = text(&c, s.url("/services/departments")).await;
    assert_eq!(status, 200);
    assert!(depts.contains("郑州市民政局"));
    let (status, dept) = text(&c, s.url("/services/departments/410100-MZ")).await;
    assert_eq!(status, 200);
    assert!(dept.contains("/services/items/410100-MZ-0001"));

    let (status, guide) = text(&c, s.url("/services/items/410100-GA-0003")).await;
    assert_eq!(status, 200);
    assert!(
        guide.contains("法定10个工作日") && guide.contains("承诺3个工作日"),
        "{guide}"
    );
    assert!(
        guide.contains("/services/bundles/newborn"),
        "the guide names the bundle"
    );

    let (status, bundle) = text(&c, s.url("/services/bundles/newborn")).await;
    assert_eq!(status, 200);
    let figure = |html: &str, id: &str| -> u32 {
        let marker = format!("data-testid=\"{id}\">");
        let start = html.find(&marker).unwrap() + marker.len();
        html[start..].split('<').next().unwrap().parse().unwrap()
    };
    let (before, after) = (
        figure(&bundle, "fields-before"),
        figure(&bundle, "fields-after"),
    );
    assert!(after < before, "{before} → {after}");
    // Picking the optional item adds its questions.
    let (_, picked) = text(
        &c,
        s.url("/services/bundles/newborn?optional=410100-YB-0002"),
    )
    .await;
    assert!(figure(&picked, "fields-before") > before);
    assert!(picked.contains("value=\"410100-YB-0002\" checked"));
    for missing in [
        "/services/items/NOPE",
        "/services/bundles/NOPE",
        "/services/life-events/NOPE",
        "/services/departments/NOPE",
    ] {
        assert_eq!(text(&c, s.url(missing)).await.0, 404, "{missing}");
    }
    s.stop().await;
}
both_engines!(catalog_browse, browse_guide_and_bundle);

async fn sign_in_staff(s: &TestServer, login: &str) -> reqwest::Client {
    s.staff(
        login,
        if login.starts_with("admin") {
            identity::Role::PlatformAdmin
        } else {
            identity::Role::Reviewer
        },
    )
    .await;
    let c = client();
    let csrf = s.csrf(&c, "/staff/sign-in").await;
    let res = c
        .post(s.url("/staff/sign-in"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("login", login),
            ("password", "staff passphrase"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    c
}

async fn admins_upload_a_bundle_from_the_page(s: TestServer) {
    let reviewer = sign_in_staff(&s, "reviewer8").await;
    assert_eq!(text(&reviewer, s.url("/admin/catalog")).await.0, 403);
    let anonymous = client();
    assert_eq!(
        anonymous
            .get(s.url("/admin/catalog"))
            .send()
            .await
            .unwrap()
            .status(),
        303
    );

    let admin = sign_in_staff(&s, "admin8").await;
    let (status, page) = text(&admin, s.url("/admin/catalog")).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-testid=\"live-version\">1"));

    let csrf = s.csrf(&admin, "/admin/catalog").await;
    let bad =
        "bundles:\n  - code: broken\n    name: 坏的\n    items:\n      - item: NO-SUCH-ITEM\n";
    let res = admin
        .post(s.url("/admin/catalog"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("path", "bundles/broken.yaml"),
            ("content", bad),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap().replace("&#x2f;", "/");
    assert!(html.contains("bundles/broken.yaml:5:"), "{html}");
    assert_eq!(text(&admin, s.url("/services/bundles/broken")).await.0, 404);

    let good = "bundles:\n  - code: wedding\n    name: 结婚安家一件事\n    keywords: [结婚]\n    life_events: [marriage]\n    items:\n      - item: 410100-MZ-0001\n";
    let res = admin
        .post(s.url("/admin/catalog"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("path", "bundles/wedding.yaml"),
            ("content", good),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/admin/catalog?published=2");
    let (status, bundle) = text(&client(), s.url("/services/bundles/wedding")).await;
    assert_eq!(status, 200);
    assert!(bundle.contains("结婚安家一件事"));
    // Citizens find it by search at once: the index is rebuilt with the version.
    let (status, found) = text(
        &client(),
        s.url("/services/search?q=%E7%BB%93%E5%A9%9A%E5%AE%89%E5%AE%B6"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(found.contains("/services/bundles/wedding"), "{found}");

    // …and open its merged form at once.
    let citizen = client();
    let csrf = s.csrf(&citizen, "/sign-up").await;
    let id = common::id_number(88);
    let res = citizen
        .post(s.url("/sign-up"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "新人"),
            ("id_number", id.as_str()),
            ("phone", "13600000088"),
            ("password", "a sound passphrase"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let csrf = s.csrf(&citizen, "/services/bundles/wedding/apply").await;
    let res = citizen
        .post(s.url("/services/bundles/wedding/apply"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let first = res.headers()["location"].to_str().unwrap().to_string();
    let (status, screen) = text(&citizen, s.url(&first)).await;
    assert_eq!(status, 200);
    assert!(screen.contains("结婚安家一件事"), "{screen}");
    assert!(screen.contains("data-testid=\"screen-form\""));
    s.stop().await;
}
both_engines!(catalog_upload_page, admins_upload_a_bundle_from_the_page);

async fn the_search_page_lists_results_and_errors_beside_the_field(s: TestServer) {
    let c = client();
    let (status, page) = text(&c, s.url("/services/search?q=%E5%87%BA%E7%94%9F")).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-testid=\"search-results\""), "{page}");
    assert!(page.contains("/services/bundles/newborn"));
    let (status, page) = text(&c, s.url("/services/search?q=")).await;
    assert_eq!(status, 400);
    assert!(page.contains("id=\"q-error\""));
    let (status, page) = text(
        &c,
        s.url("/services/search?q=%E9%87%8F%E5%AD%90%E5%8A%9B%E5%AD%A6"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("data-testid=\"search-none\""));
    s.stop().await;
}
both_engines!(
    catalog_search_page,
    the_search_page_lists_results_and_errors_beside_the_field
);
