//! The pages' forms over HTTP, as a browser without JavaScript uses them, on both engines.

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

async fn sign_up_form(s: &TestServer, c: &reqwest::Client, n: u16) -> reqwest::Response {
    let csrf = s.csrf(c, "/sign-up").await;
    let phone = format!("136{n:08}");
    c.post(s.url("/sign-up"))
        .form(&form(
            &csrf,
            &[
                ("name", "表单用户"),
                ("id_number", &id_number(n)),
                ("phone", &phone),
                ("password", "a sound passphrase"),
            ],
        ))
        .send()
        .await
        .unwrap()
}

async fn forms_need_the_csrf_token(s: TestServer) {
    let c = client();
    // A form posted without the token, or with another visitor's, changes nothing.
    let res = c
        .post(s.url("/sign-up"))
        .form(&[
            ("name", "x"),
            ("id_number", &id_number(30)),
            ("phone", "13600000030"),
            ("password", "a sound passphrase"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let _ = s.csrf(&c, "/sign-up").await;
    let res = c
        .post(s.url("/sign-up"))
        .form(&form(
            "0".repeat(48).as_str(),
            &[
                ("name", "x"),
                ("id_number", &id_number(30)),
                ("phone", "13600000030"),
                ("password", "a sound passphrase"),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(s.count("accounts").await, 0);
    s.stop().await;
}
both_engines!(csrf_required, forms_need_the_csrf_token);

async fn sign_up_sign_in_sign_out(s: TestServer) {
    let c = client();
    let res = sign_up_form(&s, &c, 31).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/account");
    let set: Vec<_> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let session = set
        .iter()
        .find(|c| c.starts_with("hb_session="))
        .expect("session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"));
    let page = c
        .get(s.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let id = id_number(31);
    assert!(page.contains(&format!("{}**********{}", &id[..4], &id[14..])));
    assert!(!page.contains(&id), "full ID number on the page");
    assert!(page.contains("136****0031"));

    // Signing out ends the session on the server, not only in the browser.
    let csrf = s.csrf(&c, "/account").await;
    let res = c
        .post(s.url("/sign-out"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(s.count("sessions").await, 0);
    let res = c.get(s.url("/account")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/sign-in?next=/account");

    // A wrong password: the form again, with a message that names no account.
    let csrf = s.csrf(&c, "/sign-in").await;
    let res = c
        .post(s.url("/sign-in"))
        .form(&form(
            &csrf,
            &[
                ("login", &id),
                ("password", "wrong password"),
                ("next", "/account"),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("账号或密码不正确"));

    let res = c
        .post(s.url("/sign-in"))
        .form(&form(
            &csrf,
            &[
                ("login", &id),
                ("password", "a sound passphrase"),
                ("next", "//evil.example/"),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    // An off-site `next` is ignored.
    assert_eq!(res.headers()["location"], "/account");
    s.stop().await;
}
both_engines!(sign_up_and_in, sign_up_sign_in_sign_out);

async fn duplicate_and_invalid_sign_ups_show_field_errors(s: TestServer) {
    let c = client();
    assert_eq!(sign_up_form(&s, &c, 32).await.status(), 303);
    let c2 = client();
    let res = sign_up_form(&s, &c2, 32).await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"id_number-error\""));
    assert!(html.contains("该证件号码已注册账户"));
    let csrf = s.csrf(&c2, "/sign-up").await;
    let res = c2
        .post(s.url("/sign-up"))
        .header("accept-language", "en")
        .form(&form(
            &csrf,
            &[
                ("name", ""),
                ("id_number", "4101"),
                ("phone", "12"),
                ("password", "short"),
            ],
        ))
        .send()
        .await
        .unwrap();
    let html = res.text().await.unwrap();
    for field in ["name", "id_number", "phone", "password"] {
        assert!(
            html.contains(&format!("id=\"{field}-error\"")),
            "{field} error shown"
        );
        assert!(
            html.contains(&format!("href=\"#{field}\"")),
            "{field} in the summary"
        );
    }
    assert!(html.contains("The ID number must have 18 characters"));
    assert_eq!(s.count("accounts").await, 1);
    s.stop().await;
}
both_engines!(
    field_errors,
    duplicate_and_invalid_sign_ups_show_field_errors
);

async fn staff_and_public_sign_in_are_separate(s: TestServer) {
    let identity = identity::Identity::new(s.db.clone()).await;
    let dept = identity::store::Department {
        id: "d1".into(),
        code: "410100-MZ".into(),
        name: "郑州市民政局".into(),
        name_en: "Civil Affairs".into(),
        level: "city".into(),
        parent_id: None,
    };
    identity::store::insert_department(&s.db, &dept, chrono::Utc::now())
        .await
        .unwrap();
    let pw = identity::domain::Password::new_for("staff passphrase", &[]).unwrap();
    identity
        .create_staff(
            "reviewer07",
            "王审批",
            "d1",
            &[identity::Role::Reviewer],
            &pw,
        )
        .await
        .unwrap();
    let c = client();
    assert_eq!(sign_up_form(&s, &c, 33).await.status(), 303);

    let c = client();
    let csrf = s.csrf(&c, "/sign-in").await;
    let res = c
        .post(s.url("/sign-in"))
        .form(&form(
            &csrf,
            &[("login", "reviewer07"), ("password", "staff passphrase")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "staff may not use the public sign-in");
    let res = c
        .post(s.url("/staff/sign-in"))
        .form(&form(
            &csrf,
            &[
                ("login", &id_number(33)),
                ("password", "a sound passphrase"),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "citizens may not use the staff sign-in");
    let res = c
        .post(s.url("/staff/sign-in"))
        .form(&form(
            &csrf,
            &[("login", "reviewer07"), ("password", "staff passphrase")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let page = c
        .get(s.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("郑州市民政局") && page.contains("审批人员"));
    s.stop().await;
}
both_engines!(staff_sign_in, staff_and_public_sign_in_are_separate);

async fn preferences_persist_with_the_account(s: TestServer) {
    let c = client();
    assert_eq!(sign_up_form(&s, &c, 34).await.status(), 303);
    let csrf = s.csrf(&c, "/account").await;
    let res = c
        .post(s.url("/prefs/mode"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("mode", "elderly"),
            ("back", "/account"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/account");
    let res = c
        .post(s.url("/prefs/lang"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("lang", "en"),
            ("back", "https://evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/");
    let page = c
        .get(s.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("class=\"elderly\"") && page.contains("lang=\"en\""));
    let row: (Option<String>, Option<bool>) = kernel::with_db!(&s.db, pool =>
        sqlx::query_as("SELECT lang, elderly FROM accounts").fetch_one(pool).await)
    .unwrap();
    assert_eq!(row, (Some("en".into()), Some(true)));
    s.stop().await;
}
both_engines!(preferences, preferences_persist_with_the_account);
