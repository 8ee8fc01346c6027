//! The e-licence library against the real server, on both engines: issuing by the issuing
//! department's staff, verification and each of its verdicts, revocation seen at once on the
//! public page, key rotation, holders kept apart, share links with their recorded uses, and
//! bulk import from CSV.

mod common;

use common::{TestServer, client, id_number};
use serde_json::{Value, json};

fn form(csrf: &str, fields: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    v.push(("csrf".into(), csrf.into()));
    v
}

/// A member of staff with `role` in the department with `code`, made here if new.
async fn staff_in(s: &TestServer, login: &str, code: &str, role: identity::Role) -> String {
    let identity = identity::Identity::new(s.db.clone()).await;
    let dept = match identity::store::department_by_code(&s.db, code)
        .await
        .unwrap()
    {
        Some(d) => d,
        None => {
            let d = identity::store::Department {
                id: format!("d-{code}"),
                code: code.to_string(),
                name: "测试部门".into(),
                name_en: "Test department".into(),
                level: "city".into(),
                parent_id: None,
            };
            identity::store::insert_department(&s.db, &d, chrono::Utc::now())
                .await
                .unwrap();
            d
        }
    };
    let pw = identity::domain::Password::new_for("staff passphrase", &[]).unwrap();
    identity
        .create_staff(login, "测试人员", &dept.id, &[role], &pw)
        .await
        .unwrap();
    s.token(login, "staff passphrase").await
}

/// A citizen signed up through the web form: their browser, and an API token.
async fn citizen(s: &TestServer, n: u16) -> (reqwest::Client, String) {
    let c = client();
    let csrf = s.csrf(&c, "/sign-up").await;
    let phone = format!("137{n:08}");
    let res = c
        .post(s.url("/sign-up"))
        .form(&form(
            &csrf,
            &[
                ("name", "持证测试"),
                ("id_number", &id_number(n)),
                ("phone", &phone),
                ("password", "a sound passphrase"),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let token = s.token(&id_number(n), "a sound passphrase").await;
    (c, token)
}

async fn issue(s: &TestServer, token: &str, body: Value) -> (u16, Value) {
    let res = s
        .client
        .post(s.url("/api/v1/licences"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

fn marriage(n: u16) -> Value {
    json!({
        "type": "marriage_certificate",
        "holder_number": id_number(n),
        "holder_name": "持证测试",
        "fields": {
            "person.name": "持证测试",
            "person.id_number": id_number(n),
            "spouse.name": "配偶测试",
            "person.wedding_date": "2026-05-20",
        },
    })
}

async fn verify(s: &TestServer, payload: &str) -> Value {
    let res = s
        .client
        .post(s.url("/api/v1/licences/verify"))
        .json(&json!({ "payload": payload }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn result_of(s: &TestServer, payload: &str) -> String {
    verify(s, payload).await["result"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The payload's content as JSON, and its signature.
fn take_apart(payload: &str) -> (Value, Vec<u8>) {
    assert!(payload.starts_with("HBL1."));
    let p = licences::domain::decode_payload(payload).expect("a payload");
    (p.content, p.signature)
}

fn put_together(content: &Value, signature: &[u8]) -> String {
    licences::domain::encode_payload(
        licences::canonical::to_canonical(content).as_bytes(),
        signature,
    )
}

async fn get_page(c: &reqwest::Client, url: String) -> (u16, String) {
    let res = c.get(url).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

both_engines!(issue_and_every_verdict, issue_and_every_verdict_body);

async fn issue_and_every_verdict_body(s: TestServer) {
    let mz = staff_in(&s, "mz-admin", "410100-MZ", identity::Role::DeptAdmin).await;
    let other = staff_in(&s, "ga-reviewer", "410100-GA", identity::Role::Reviewer).await;
    let (_, _) = citizen(&s, 1).await;

    // Only the issuing department issues.
    let (status, _) = issue(&s, &other, marriage(1)).await;
    assert_eq!(status, 403);
    let (status, body) = issue(
        &s,
        &mz,
        json!({"type": "marriage_certificate", "holder_number": "41010519850615001",
               "holder_name": "", "fields": {"child.name": "不该有"}}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"holder_number"), "{body}");
    assert!(fields.contains(&"holder_name"), "{body}");
    assert!(fields.contains(&"fields.child.name"), "{body}");

    let (status, l) = issue(&s, &mz, marriage(1)).await;
    assert_eq!(status, 201, "{l}");
    let id = l["id"].as_str().unwrap().to_string();
    assert_eq!(licences::LicenceId::parse(&id).unwrap().type_code(), "1102");
    assert_eq!(l["status"], "valid");
    assert_eq!(
        l["valid_until"],
        Value::Null,
        "marriage certificates are permanent"
    );
    assert_eq!(l["algorithm"], "Ed25519");
    let full = id_number(1);
    assert!(!l.to_string().contains(&full), "no full ID number: {l}");
    assert_eq!(
        l["fields"]["person.id_number"],
        kernel::ids::mask_id_number(&full)
    );
    let payload = l["payload"].as_str().unwrap().to_string();
    assert!(!payload.contains(&full));

    let answer = verify(&s, &payload).await;
    assert_eq!(answer["result"], "valid", "{answer}");
    assert_eq!(answer["valid"], true);
    assert_eq!(answer["licence"]["id"], id.as_str());
    // A phone reads the URL, which works too.
    let url = format!("http://localhost/v/{payload}");
    assert_eq!(result_of(&s, &url).await, "valid");
    assert_eq!(result_of(&s, "not a licence").await, "malformed");

    // Tampered: the content changed, the signature kept.
    let (content, signature) = take_apart(&payload);
    let mut changed = content.clone();
    changed["h"]["n"] = json!("冒名顶替");
    assert_eq!(
        result_of(&s, &put_together(&changed, &signature)).await,
        "tampered"
    );
    // Wrongly signed: the content as issued, signed by a key that is not the issuer's.
    let stranger = licences::sign::KeyPair::generate(licences::Algorithm::Ed25519);
    let bytes = licences::canonical::to_canonical(&content);
    let forged =
        licences::domain::encode_payload(bytes.as_bytes(), &stranger.sign(bytes.as_bytes()));
    assert_eq!(result_of(&s, &forged).await, "wrong_signature");
    // Unknown key: the kid names no key of ours.
    let mut unknown = content.clone();
    unknown["kid"] = json!(stranger.kid);
    let text = licences::canonical::to_canonical(&unknown);
    let unknown =
        licences::domain::encode_payload(text.as_bytes(), &stranger.sign(text.as_bytes()));
    assert_eq!(result_of(&s, &unknown).await, "unknown_key");

    // Expired and not yet valid, from the validity period.
    let mut old = marriage(1);
    old["valid_from"] = json!("2020-01-01");
    old["valid_until"] = json!("2021-01-01");
    let (status, expired) = issue(&s, &mz, old).await;
    assert_eq!(status, 201);
    assert_eq!(expired["status"], "expired");
    assert_eq!(
        result_of(&s, expired["payload"].as_str().unwrap()).await,
        "expired"
    );
    let mut later = marriage(1);
    later["valid_from"] = json!("2099-01-01");
    let (_, later) = issue(&s, &mz, later).await;
    assert_eq!(
        result_of(&s, later["payload"].as_str().unwrap()).await,
        "not_yet_valid"
    );

    // Revoked: the public page says so at once.
    let public = client();
    let (status, page) = get_page(&public, s.url(&format!("/v/{payload}"))).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-result=\"valid\""), "{page}");
    let res = s
        .client
        .post(s.url(&format!("/api/v1/licences/{id}/revoke")))
        .bearer_auth(&other)
        .json(&json!({"reason": "不是本部门"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "another department cannot revoke");
    let res = s
        .client
        .post(s.url(&format!("/api/v1/licences/{id}/revoke")))
        .bearer_auth(&mz)
        .json(&json!({"reason": "登记错误"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let revoked: Value = res.json().await.unwrap();
    assert_eq!(revoked["state"], "revoked");
    assert_eq!(revoked["state_reason"], "登记错误");
    assert_eq!(result_of(&s, &payload).await, "revoked");
    let (_, page) = get_page(&public, s.url(&format!("/v/{payload}"))).await;
    assert!(page.contains("data-result=\"revoked\""), "{page}");
    let res = s
        .client
        .post(s.url(&format!("/api/v1/licences/{id}/cancel")))
        .bearer_auth(&mz)
        .json(&json!({"reason": "再次"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409, "a revoked licence stays revoked");

    // Cancelled.
    let (_, second) = issue(&s, &mz, marriage(1)).await;
    let second_id = second["id"].as_str().unwrap();
    let res = s
        .client
        .post(s.url(&format!("/api/v1/licences/{second_id}/cancel")))
        .bearer_auth(&mz)
        .json(&json!({"reason": "持证人申请注销"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        result_of(&s, second["payload"].as_str().unwrap()).await,
        "cancelled"
    );

    // Rotation: a new key signs, the old one still verifies.
    let (_, before) = issue(&s, &mz, marriage(1)).await;
    let admin = staff_in(&s, "platform", "410100-DSJ", identity::Role::PlatformAdmin).await;
    let res = s
        .client
        .post(s.url("/api/v1/licences/keys/rotate"))
        .bearer_auth(&mz)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = s
        .client
        .post(s.url("/api/v1/licences/keys/rotate"))
        .bearer_auth(&admin)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let new_key: Value = res.json().await.unwrap();
    assert_ne!(new_key["kid"], before["kid"]);
    let (_, after) = issue(&s, &mz, marriage(1)).await;
    assert_eq!(after["kid"], new_key["kid"]);
    assert_eq!(
        result_of(&s, before["payload"].as_str().unwrap()).await,
        "valid"
    );
    assert_eq!(
        result_of(&s, after["payload"].as_str().unwrap()).await,
        "valid"
    );
    let keys: Value = s
        .client
        .get(s.url("/api/v1/licences/keys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = keys["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys.iter().filter(|k| k["retired_at"].is_null()).count(), 1);
    assert!(keys.iter().all(|k| k.get("private_key").is_none()));

    // SM2 with SM3 as the second algorithm.
    let res = s
        .client
        .post(s.url("/api/v1/licences/keys/rotate"))
        .bearer_auth(&admin)
        .json(&json!({"algorithm": "SM2-SM3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let sm2 = licences::Licences::with_algorithm(s.db.clone(), licences::Algorithm::Sm2);
    let fixture =
        catalog::Catalog::load_dir(std::path::Path::new(&common::fixture_catalog())).unwrap();
    let new = licences::NewLicence {
        type_code: "marriage_certificate".into(),
        holder_number: id_number(1),
        holder_name: "持证测试".into(),
        ..Default::default()
    };
    let l = sm2.issue(&fixture, &new, "test").await.unwrap();
    assert_eq!(l.algorithm, licences::Algorithm::Sm2);
    assert_eq!(result_of(&s, &l.payload()).await, "valid");

    // A register copy changed behind the library's back no longer matches its signature.
    let mut fields = l.fields.clone();
    fields.insert("spouse.name".into(), "别人".into());
    licences::store::overwrite_fields(&s.db, l.id.as_str(), &fields)
        .await
        .unwrap();
    assert_eq!(result_of(&s, &l.payload()).await, "tampered");

    let logs = common::logs();
    assert!(!logs.contains(&full), "a full ID number was logged");
    s.stop().await;
}

both_engines!(holders_see_only_their_own, holders_see_only_their_own_body);

async fn holders_see_only_their_own_body(s: TestServer) {
    let mz = staff_in(&s, "mz-reviewer", "410100-MZ", identity::Role::Reviewer).await;
    let (mine, my_token) = citizen(&s, 11).await;
    let (theirs, their_token) = citizen(&s, 12).await;
    let (_, l) = issue(&s, &mz, marriage(11)).await;
    let id = l["id"].as_str().unwrap();

    let res = s
        .client
        .get(s.url(&format!("/api/v1/licences/{id}")))
        .bearer_auth(&my_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = s
        .client
        .get(s.url(&format!("/api/v1/licences/{id}")))
        .bearer_auth(&their_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = s
        .client
        .get(s.url(&format!("/api/v1/licences/{id}")))
        .bearer_auth(&mz)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the issuing department reads it");
    let list: Value = s
        .client
        .get(s.url("/api/v1/licences"))
        .bearer_auth(&their_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
    let list: Value = s
        .client
        .get(s.url("/api/v1/licences"))
        .bearer_auth(&my_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);

    let (status, page) = get_page(&mine, s.url("/licences")).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-testid=\"licence-card\""), "{page}");
    assert!(page.contains("<svg"), "each licence with its QR code");
    assert!(page.contains(id));
    assert!(!page.contains(&id_number(11)));
    let (status, page) = get_page(&theirs, s.url("/licences")).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-testid=\"wallet-empty\""));
    let (status, _) = get_page(&theirs, s.url(&format!("/licences/{id}"))).await;
    assert_eq!(status, 404);
    let (status, page) = get_page(&mine, s.url(&format!("/licences/{id}"))).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-status=\"valid\""), "{page}");
    let (status, _) = get_page(&client(), s.url("/licences")).await;
    assert_eq!(status, 303, "signed-out visitors are sent to sign in");

    // A company's wallet, by credit code.
    let code = kernel::CreditCode::from_parts("51", 410100, "MA3X5L2K").unwrap();
    let res = s
        .client
        .post(s.url("/api/v1/companies"))
        .json(&json!({"name": "郑州市测试协会", "credit_code": code.as_str(), "phone": "13900000021", "password": "a sound passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let company = s.token(code.as_str(), "a sound passphrase").await;
    let (status, body) = issue(
        &s,
        &mz,
        json!({"type": "social_org_certificate", "holder_number": code.as_str(),
               "holder_name": "郑州市测试协会", "fields": {"company.name": "郑州市测试协会"}}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(body["valid_until"].is_string(), "five years");
    let list: Value = s
        .client
        .get(s.url("/api/v1/licences"))
        .bearer_auth(&company)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["licences"][0]["type"], "social_org_certificate");
    s.stop().await;
}

both_engines!(
    share_links_record_each_use,
    share_links_record_each_use_body
);

async fn share_links_record_each_use_body(s: TestServer) {
    let mz = staff_in(&s, "mz-admin", "410100-MZ", identity::Role::DeptAdmin).await;
    let (holder, _) = citizen(&s, 21).await;
    let (_, l) = issue(&s, &mz, marriage(21)).await;
    let id = l["id"].as_str().unwrap();
    let path = format!("/licences/{id}");

    // A length that is not offered is refused next to the field.
    let csrf = s.csrf(&holder, &path).await;
    let res = holder
        .post(s.url(&format!("{path}/shares")))
        .form(&form(&csrf, &[("hours", "9999")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("id=\"hours-error\""));

    let res = holder
        .post(s.url(&format!("{path}/shares")))
        .form(&form(&csrf, &[("hours", "1")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap().replace("&#x2f;", "/");
    let marker = "data-testid=\"share-url\">";
    let start = page.find(marker).expect("a share link") + marker.len();
    let url = page[start..start + page[start..].find('<').unwrap()].to_string();
    let share_path = url[url.find("/share/").unwrap()..].to_string();
    assert_eq!(s.count("licence_shares").await, 1);
    let token = share_path.trim_start_matches("/share/");
    let stored: (String,) = kernel::with_db!(&s.db, pool => sqlx::query_as("SELECT token_digest FROM licence_shares").fetch_one(pool).await).unwrap();
    assert_ne!(stored.0, token, "only the digest is stored");

    // The third party must say who and why.
    let third = client();
    let (status, page) = get_page(&third, s.url(&share_path)).await;
    assert_eq!(status, 200);
    assert!(page.contains("name=\"purpose\""));
    assert!(!page.contains(&id_number(21)));
    let csrf = s.csrf(&third, &share_path).await;
    let res = third
        .post(s.url(&share_path))
        .form(&form(&csrf, &[("used_by", "某房产中介"), ("purpose", "")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"purpose-error\""), "{page}");
    assert_eq!(s.count("licence_uses").await, 0);
    let res = third
        .post(s.url(&share_path))
        .form(&form(
            &csrf,
            &[("used_by", "某房产中介"), ("purpose", "办理房屋租赁登记")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("data-result=\"valid\""), "{page}");
    assert!(page.contains("配偶测试"));
    assert_eq!(s.count("licence_uses").await, 1);

    // The holder sees the use.
    let (_, page) = get_page(&holder, s.url(&path)).await;
    assert!(page.contains("办理房屋租赁登记"), "{page}");
    assert!(page.contains("某房产中介"));

    // After it expires the link opens nothing.
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    kernel::with_db!(&s.db, pool => sqlx::query("UPDATE licence_shares SET expires_at = $1")
        .bind(past).execute(pool).await.map(|_| ()))
    .unwrap();
    let (status, _) = get_page(&third, s.url(&share_path)).await;
    assert_eq!(status, 404);
    let res = third
        .post(s.url(&share_path))
        .form(&form(
            &csrf,
            &[("used_by", "某人"), ("purpose", "再看一次")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(s.count("licence_uses").await, 1);
    s.stop().await;
}

both_engines!(
    csv_import_reports_bad_rows,
    csv_import_reports_bad_rows_body
);

async fn csv_import_reports_bad_rows_body(s: TestServer) {
    let fixture =
        catalog::Catalog::load_dir(std::path::Path::new(&common::fixture_catalog())).unwrap();
    let lib = licences::Licences::new(s.db.clone());
    let csv = format!(
        "type,holder_number,holder_name,valid_from,valid_until,person.name,spouse.name\n\
         marriage_certificate,{a},甲,,,甲,乙\n\
         marriage_certificate,41010519850615001,坏号码,,,丙,丁\n\
         no_such_type,{a},甲,,,甲,乙\n\
         marriage_certificate,{b},\"引号, 逗号\",2026-01-01,2036-01-01,\"引号, 逗号\",戊\n\
         marriage_certificate,{a},甲,not-a-date,,甲,乙\n\
         marriage_certificate,{a}\n\
         birth_certificate,{b},己,,,,\n",
        a = id_number(31),
        b = id_number(32),
    );
    let report = licences::import::import(&lib, &fixture, csv.as_bytes(), "import")
        .await
        .unwrap();
    assert_eq!(report.imported, 3, "{report:?}");
    let lines: Vec<u64> = report.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![3, 4, 6, 7], "{report:?}");
    assert!(
        report.rejected[0].reasons[0].starts_with("holder_number"),
        "{report:?}"
    );
    assert!(
        report.rejected[1].reasons[0].starts_with("type"),
        "{report:?}"
    );
    assert!(
        report.rejected[2].reasons[0].starts_with("valid_from"),
        "{report:?}"
    );
    assert_eq!(s.count("licences").await, 3);
    let list = lib
        .list_for_holder(catalog::HolderKind::Person, &id_number(32))
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    for l in &list {
        assert_eq!(result_of(&s, &l.payload()).await, "valid");
    }
    let bad =
        licences::import::import(&lib, &fixture, "type,holder_name\n".as_bytes(), "import").await;
    assert!(
        bad.is_err(),
        "a file without the required columns is refused"
    );
    s.stop().await;
}

both_engines!(csv_import_in_batches, csv_import_in_batches_body);

/// A CSV file of `rows` licences of two types, with a bad holder number every 300th row.
fn batch_csv(rows: usize, holder: &str) -> (String, Vec<u64>) {
    let mut csv = String::from("type,holder_number,holder_name,person.name,spouse.name\n");
    let mut bad = Vec::new();
    for i in 0..rows {
        if i % 300 == 5 {
            csv.push_str("marriage_certificate,41010519850615001,坏号码,甲,乙\n");
            bad.push(i as u64 + 2);
        } else if i % 2 == 0 {
            csv.push_str(&format!(
                "marriage_certificate,{holder},甲{i},甲{i},乙{i}\n"
            ));
        } else {
            csv.push_str(&format!("birth_certificate,{holder},己{i},,\n"));
        }
    }
    (csv, bad)
}

async fn serials_by_group(s: &TestServer) -> std::collections::BTreeMap<String, Vec<u64>> {
    let ids: Vec<(String,)> =
        kernel::with_db!(&s.db, pool => sqlx::query_as("SELECT id FROM licences")
        .fetch_all(pool).await)
        .unwrap();
    let mut groups = std::collections::BTreeMap::<String, Vec<u64>>::new();
    for (id,) in ids {
        let id = licences::LicenceId::parse(&id).unwrap();
        groups
            .entry(format!("{}/{}", id.type_code(), id.issuer()))
            .or_default()
            .push(id.serial());
    }
    for serials in groups.values_mut() {
        serials.sort_unstable();
    }
    groups
}

/// Imports larger than a batch, two at once and beside single issues: every good row once,
/// bad rows by line, and each type's serial numbers unique and without gaps. A batch that
/// fails stores nothing and gives no serial number away.
async fn csv_import_in_batches_body(s: TestServer) {
    let fixture =
        catalog::Catalog::load_dir(std::path::Path::new(&common::fixture_catalog())).unwrap();
    let lib = licences::Licences::new(s.db.clone());
    let rows = licences::import::BATCH * 2 + 7;
    let (csv_a, bad) = batch_csv(rows, &id_number(41));
    let (csv_b, _) = batch_csv(rows, &id_number(42));
    let single = licences::NewLicence {
        type_code: "marriage_certificate".into(),
        holder_number: id_number(43),
        holder_name: "单张".into(),
        ..Default::default()
    };
    let singles = async {
        for _ in 0..5 {
            lib.issue(&fixture, &single, "test").await.unwrap();
            tokio::task::yield_now().await;
        }
    };
    let (a, b, ()) = tokio::join!(
        licences::import::import(&lib, &fixture, csv_a.as_bytes(), "import"),
        licences::import::import(&lib, &fixture, csv_b.as_bytes(), "import"),
        singles,
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    for report in [&a, &b] {
        assert_eq!(report.imported as usize, rows - bad.len());
        let lines: Vec<u64> = report.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, bad);
    }
    let total = a.imported + b.imported + 5;
    assert_eq!(s.count("licences").await, total as i64);
    let groups = serials_by_group(&s).await;
    assert_eq!(groups.len(), 2, "{:?}", groups.keys());
    for (group, serials) in &groups {
        let expected: Vec<u64> = (1..=serials.len() as u64).collect();
        assert!(
            *serials == expected,
            "{group}: serials not 1..={}",
            serials.len()
        );
    }

    // Wind a counter back so that a batch collides with a stored licence.
    kernel::with_db!(&s.db, pool => sqlx::query(
        "UPDATE licence_serials SET next_serial = 1 WHERE type_code = '1102'")
        .execute(pool).await.map(|_| ()))
    .unwrap();
    let news = vec![single.clone(), single.clone(), single];
    assert!(lib.issue_many(&fixture, &news, "test").await.is_err());
    assert_eq!(s.count("licences").await, total as i64);
    let next: (i64,) = kernel::with_db!(&s.db, pool => sqlx::query_as(
        "SELECT next_serial FROM licence_serials WHERE type_code = '1102'")
        .fetch_one(pool).await)
    .unwrap();
    assert_eq!(next.0, 1, "the failed batch gave no serial away");
    s.stop().await;
}
