//! Filling an application's form screen by screen over HTTP, as a browser without JavaScript
//! does, on both engines: prefill from the verified account, errors next to the field,
//! back links, check your answers with change links, drafts kept per person.

mod common;

use common::{TestServer, client, id_number};

fn form(csrf: &str, fields: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    v.push(("csrf".into(), csrf.into()));
    v
}

async fn signed_up(s: &TestServer, n: u16) -> reqwest::Client {
    let c = client();
    let csrf = s.csrf(&c, "/sign-up").await;
    let phone = format!("137{n:08}");
    let res = c
        .post(s.url("/sign-up"))
        .form(&form(
            &csrf,
            &[
                ("name", "申请测试"),
                ("id_number", &id_number(n)),
                ("phone", &phone),
                ("password", "a sound passphrase"),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    c
}

async fn get(c: &reqwest::Client, url: String) -> (u16, String, String) {
    let res = c.get(url).send().await.unwrap();
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        status,
        location,
        res.text().await.unwrap().replace("&#x2f;", "/"),
    )
}

async fn post(
    s: &TestServer,
    c: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let csrf = s.csrf(c, path).await;
    let res = c
        .post(s.url(path))
        .form(&form(&csrf, fields))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        status,
        location,
        res.text().await.unwrap().replace("&#x2f;", "/"),
    )
}

async fn answers_in_db(s: &TestServer, id: &str) -> serde_json::Value {
    let (json,): (String,) = kernel::with_db!(&s.db, pool =>
        sqlx::query_as("SELECT answers FROM applications WHERE id = $1").bind(id).fetch_one(pool).await)
    .unwrap();
    serde_json::from_str(&json).unwrap()
}

async fn fill_an_item_screen_by_screen(s: TestServer) {
    let item = "/services/items/410100-MZ-0001";
    // Applying needs a signed-in person, who is brought back afterwards.
    let (status, location, _) = get(&client(), s.url(&format!("{item}/apply"))).await;
    assert_eq!(status, 303);
    assert_eq!(
        location,
        "/sign-in?next=/services/items/410100-MZ-0001/apply"
    );

    let c = signed_up(&s, 41).await;
    let (status, _, guide) = get(&c, s.url(item)).await;
    assert_eq!(status, 200);
    assert!(guide.contains(&format!("href=\"{item}/apply\"")));
    let (status, _, start) = get(&c, s.url(&format!("{item}/apply"))).await;
    assert_eq!(status, 200);
    assert!(start.contains("data-testid=\"start\""), "{start}");
    let (status, first, _) = post(&s, &c, &format!("{item}/apply"), &[]).await;
    assert_eq!(status, 303);
    let id = first
        .strip_prefix("/applications/")
        .and_then(|r| r.strip_suffix("/pages/1"))
        .expect("the first screen")
        .to_string();

    // Name and ID number come from the verified account and cannot be changed; the ID
    // number is shown masked.
    let (status, _, page1) = get(&c, s.url(&first)).await;
    assert_eq!(status, 200);
    assert!(page1.contains("data-testid=\"locked-person.name\""));
    assert!(page1.contains("data-testid=\"locked-person.id_number\""));
    assert!(!page1.contains(&id_number(41)), "the ID number is masked");
    assert!(page1.contains(&kernel::ids::mask_id_number(&id_number(41))));
    assert!(
        page1.contains("value=\"13700000041\""),
        "the phone is prefilled"
    );
    assert!(
        page1.contains(&format!("href=\"{item}\"")),
        "back to the guide"
    );

    // A bad phone: the error is next to the field and in the summary; nothing is saved.
    let before = answers_in_db(&s, &id).await;
    let (status, _, refused) = post(&s, &c, &first, &[("person.phone", "12345")]).await;
    assert_eq!(status, 422);
    assert!(refused.contains("id=\"f-person-phone-error\""), "{refused}");
    assert!(refused.contains("href=\"#f-person-phone\""));
    assert!(
        refused.contains("value=\"12345\""),
        "what was typed is shown again"
    );
    assert_eq!(answers_in_db(&s, &id).await, before);

    // Posting another name changes nothing: it is locked.
    let (status, second, _) = post(
        &s,
        &c,
        &first,
        &[("person.name", "冒名顶替"), ("person.phone", "13900000001")],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(second, format!("/applications/{id}/pages/2"));
    let saved = answers_in_db(&s, &id).await;
    assert_eq!(saved["person.name"], "申请测试");
    assert_eq!(saved["person.phone"], "13900000001");

    let (status, _, page2) = get(&c, s.url(&second)).await;
    assert_eq!(status, 200);
    assert!(page2.contains(&format!("href=\"{first}\"")), "back link");
    let (status, _, refused) = post(&s, &c, &second, &[("spouse.name", "")]).await;
    assert_eq!(status, 422);
    assert!(refused.contains("id=\"f-spouse-name-error\""));
    assert!(refused.contains("id=\"f-spouse-id_number-error\""));
    let spouse = id_number(42);
    let (status, check, _) = post(
        &s,
        &c,
        &second,
        &[("spouse.name", "李配偶"), ("spouse.id_number", &spouse)],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(check, format!("/applications/{id}/check"));

    let (status, _, summary) = get(&c, s.url(&check)).await;
    assert_eq!(status, 200);
    assert!(
        summary.contains("data-testid=\"answers-complete\""),
        "{summary}"
    );
    assert!(summary.contains("李配偶"));
    assert!(!summary.contains(&spouse), "ID numbers are masked");
    assert!(summary.contains(&format!(
        "/applications/{id}/pages/2?change=1#f-spouse-name"
    )));

    // Changing an answer from the check page returns to it.
    let (status, back, _) = post(
        &s,
        &c,
        &format!("{second}?change=1"),
        &[
            ("spouse.name", "王配偶"),
            ("spouse.id_number", &spouse),
            ("return", "check"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(back, check);
    assert_eq!(answers_in_db(&s, &id).await["spouse.name"], "王配偶");

    // The draft is listed and resumes at the check; nobody else can see or change it.
    let (_, _, list) = get(&c, s.url("/applications")).await;
    assert!(list.contains(&format!("/applications/{id}")));
    let (status, location, _) = get(&c, s.url(&format!("/applications/{id}"))).await;
    assert_eq!((status, location.as_str()), (303, check.as_str()));
    let other = signed_up(&s, 43).await;
    for path in [check.clone(), second.clone(), format!("/applications/{id}")] {
        assert_eq!(get(&other, s.url(&path)).await.0, 404, "{path}");
    }
    let csrf = s.csrf(&other, "/applications").await;
    let res = other
        .post(s.url(&second))
        .form(&form(&csrf, &[("spouse.name", "别人")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(answers_in_db(&s, &id).await["spouse.name"], "王配偶");

    // A screen number the form does not have.
    assert_eq!(
        get(&c, s.url(&format!("/applications/{id}/pages/99")))
            .await
            .0,
        404
    );

    // Deleting the draft, as the button on the list does.
    let csrf = s.csrf(&c, "/applications").await;
    let res = c
        .post(s.url(&format!("/applications/{id}/delete")))
        .form(&form(&csrf, &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(get(&c, s.url(&check)).await.0, 404);
    s.stop().await;
}
both_engines!(application_item_form, fill_an_item_screen_by_screen);

async fn a_bundle_asks_each_question_once(s: TestServer) {
    let c = signed_up(&s, 51).await;
    let bundle = "/services/bundles/newborn";
    let (_, _, page) = get(&c, s.url(&format!("{bundle}?optional=410100-YB-0002"))).await;
    assert!(
        page.contains("href=\"/services/bundles/newborn/apply?optional=410100-YB-0002\""),
        "the bundle page starts with the chosen items"
    );
    let csrf = s.csrf(&c, &format!("{bundle}/apply")).await;
    let res = c
        .post(s.url(&format!("{bundle}/apply")))
        .form(&form(&csrf, &[("optional", "410100-YB-0002")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let first = res.headers()["location"].to_str().unwrap().to_string();
    let id = first.split('/').nth(2).unwrap().to_string();

    // Walk every screen, answering what is asked, and count the questions.
    let mut path = first;
    let mut asked = std::collections::HashSet::new();
    for _ in 0..20 {
        if path.ends_with("/check") {
            break;
        }
        let (status, _, html) = get(&c, s.url(&path)).await;
        assert_eq!(status, 200, "{path}");
        let names: Vec<String> = html
            .match_indices("name=\"")
            .map(|(i, _)| {
                let rest = &html[i + 6..];
                rest[..rest.find('"').unwrap()].to_string()
            })
            .filter(|n| n.contains('.'))
            .collect();
        let mut fields: Vec<(String, String)> = Vec::new();
        for n in names {
            assert!(
                asked.insert(n.clone()) || fields.iter().any(|(k, _)| *k == n),
                "{n} asked twice"
            );
            if fields.iter().any(|(k, _)| *k == n) {
                continue;
            }
            let v = answer_for(&n, &html);
            fields.push((n, v));
        }
        let refs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, next, body) = post(&s, &c, &path, &refs).await;
        assert_eq!(status, 303, "{path}: {body}");
        path = next;
    }
    assert_eq!(path, format!("/applications/{id}/check"));
    let (_, _, summary) = get(&c, s.url(&path)).await;
    assert!(
        summary.contains("data-testid=\"answers-complete\""),
        "{summary}"
    );
    s.stop().await;
}
both_engines!(application_bundle_form, a_bundle_asks_each_question_once);

/// A plausible answer for a question, from its input: the first choice of radios and
/// selects, a prefilled value as it is, else by the kind of input.
fn answer_for(name: &str, html: &str) -> String {
    let at = html.find(&format!("name=\"{name}\"")).unwrap();
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    let tag = &html[start..end];
    let attr = |a: &str| {
        tag.find(&format!(" {a}=\"")).map(|p| {
            let r = &tag[p + a.len() + 3..];
            r[..r.find('"').unwrap()].to_string()
        })
    };
    if tag.starts_with("<select") {
        let rest = &html[end..];
        let second = rest.match_indices("<option value=\"").nth(1).unwrap().0 + 15;
        return rest[second..second + rest[second..].find('"').unwrap()].to_string();
    }
    if attr("type").as_deref() == Some("radio") {
        return attr("value").unwrap();
    }
    if let Some(v) = attr("value").filter(|v| !v.is_empty()) {
        return v;
    }
    match attr("type").as_deref() {
        Some("date") => return "2026-03-01".into(),
        Some("month") => return "2026-03".into(),
        _ => {}
    }
    if attr("inputmode").is_some_and(|m| m == "numeric" || m == "decimal") {
        return "3200".into();
    }
    if name.ends_with("id_number") {
        return id_number(77);
    }
    if name.ends_with("phone") {
        return "13800000077".into();
    }
    if name.ends_with("postcode") {
        return "450000".into();
    }
    "测试回答".into()
}
