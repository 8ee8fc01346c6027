//! The identity API and the operations endpoints, over HTTP, on both engines.

mod common;

use common::{TestServer, citizen_json, id_number};
use serde_json::{Value, json};

async fn problem(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    assert_eq!(ct, "application/problem+json", "status {status}");
    (status, res.json().await.unwrap())
}

/// Sends a request's headers with a declared body length and no body; answers the status.
async fn raw_status(s: &TestServer, request_line: &str, content_length: usize) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = s.base.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{request_line} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {content_length}\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 1024];
    let n = conn.read(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(text.contains("application/problem+json"), "{text}");
    text.split_whitespace().nth(1).unwrap().parse().unwrap()
}

async fn operations_endpoints(s: TestServer) {
    let c = &s.client;
    assert_eq!(c.get(s.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(c.get(s.url("/readyz")).send().await.unwrap().status(), 200);
    let doc: Value = c
        .get(s.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in ["/api/v1/citizens", "/api/v1/sessions", "/api/v1/me"] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    for (method, path) in [
        ("post", "/api/v1/exchange/query"),
        ("get", "/api/v1/me/data-accesses"),
        ("get", "/api/v1/licences"),
        ("post", "/api/v1/licences"),
        ("get", "/api/v1/licences/{id}"),
        ("post", "/api/v1/licences/{id}/revoke"),
        ("post", "/api/v1/licences/{id}/cancel"),
        ("post", "/api/v1/licences/verify"),
        ("get", "/api/v1/licences/keys"),
        ("post", "/api/v1/licences/keys/rotate"),
    ] {
        assert!(
            doc["paths"][path].get(method).is_some(),
            "{method} {path} documented"
        );
    }
    // Every schema an operation refers to is in the document.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let text = doc["paths"].to_string();
    for name in text.split("#/components/schemas/").skip(1) {
        let name = name.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "schema {name} defined");
    }
    for name in [
        "Answer",
        "Provided",
        "Unavailable",
        "LicenceView",
        "VerifyAnswer",
    ] {
        assert!(schemas.contains_key(name), "schema {name} defined");
    }
    let query = &doc["paths"]["/api/v1/exchange/query"]["post"]["responses"];
    for code in ["200", "400", "401", "403", "422"] {
        assert!(query.get(code).is_some(), "exchange query answers {code}");
    }
    let docs = c
        .get(s.url("/api/v1/docs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .replace("&#x2f;", "/");
    assert!(docs.contains("POST /api/v1/citizens"));
    let metrics = c
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/healthz\""));

    // Without its database the server is alive but not ready.
    s.db.close().await;
    assert_eq!(c.get(s.url("/healthz")).send().await.unwrap().status(), 200);
    let (status, p) = problem(c.get(s.url("/readyz")).send().await.unwrap()).await;
    assert_eq!((status, p["code"].as_str().unwrap()), (503, "unavailable"));
    s.stop().await;
}
both_engines!(operations, operations_endpoints);

async fn citizen_sign_up_and_me(s: TestServer) {
    let c = &s.client;
    let res = c
        .post(s.url("/api/v1/citizens"))
        .json(&citizen_json(1))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let id = id_number(1);
    let masked = format!("{}{}{}", &id[..4], "*".repeat(10), &id[14..]);
    assert_eq!(created["id_number"], masked.as_str());
    assert_eq!(created["phone"], "139****0001");

    let res = c
        .post(s.url("/api/v1/sessions"))
        .json(&json!({"login": id.to_lowercase(), "password": "a sound passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_string();

    let me: Value = c
        .get(s.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["id_number"], masked.as_str());
    assert_eq!(me["name"], "测试居民");
    assert_eq!(me["kind"], "citizen");
    assert!(!me.to_string().contains(&id), "full ID number leaked");

    // The session ends when signed out.
    let res = c
        .delete(s.url("/api/v1/sessions/current"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let (status, p) = problem(
        c.get(s.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str().unwrap()),
        (401, "unauthenticated")
    );

    // Every sign-in was audited, with the login masked.
    let rows: Vec<(String, String, String)> = kernel::with_db!(&s.db, pool =>
        sqlx::query_as("SELECT event, outcome, login_masked FROM auth_audit ORDER BY id").fetch_all(pool).await).unwrap();
    let events: Vec<_> = rows.iter().map(|r| format!("{}:{}", r.0, r.1)).collect();
    assert_eq!(events, ["sign_up:ok", "sign_in:ok", "sign_out:ok"]);
    assert!(rows.iter().all(|r| r.2 == masked));
    s.stop().await;
}
both_engines!(sign_up_and_me, citizen_sign_up_and_me);

async fn bad_sign_ups_change_nothing(s: TestServer) {
    let c = &s.client;
    let mut bad = citizen_json(2);
    let mut id = id_number(2);
    let last = if id.ends_with('0') { '1' } else { '0' };
    id.replace_range(17.., &last.to_string());
    bad["id_number"] = json!(id);
    let (status, p) = problem(
        c.post(s.url("/api/v1/citizens"))
            .json(&bad)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(p["code"], "invalid_id_number");
    assert_eq!(p["errors"][0]["field"], "id_number");
    assert_eq!(p["errors"][0]["code"], "checksum");
    assert!(
        p["errors"][0]["message"]["zh"]
            .as_str()
            .unwrap()
            .contains("校验位")
    );
    assert!(
        p["errors"][0]["message"]["en"]
            .as_str()
            .unwrap()
            .contains("check digit")
    );
    assert_eq!(s.count("accounts").await, 0);

    // Several bad fields: all reported.
    let (_, p) = problem(
        c.post(s.url("/api/v1/citizens"))
            .json(&json!({"name": "", "id_number": "123", "phone": "1", "password": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(p["errors"].as_array().unwrap().len(), 4);

    // A bad credit code.
    let (status, p) = problem(
        c.post(s.url("/api/v1/companies"))
            .json(&json!({"name": "某公司", "credit_code": "91410100MA3X5L2K00", "phone": "13900000000", "password": "a sound passphrase"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str().unwrap()),
        (400, "invalid_credit_code")
    );

    // A duplicate account.
    assert_eq!(
        c.post(s.url("/api/v1/citizens"))
            .json(&citizen_json(3))
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let (status, p) = problem(
        c.post(s.url("/api/v1/citizens"))
            .json(&citizen_json(3))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str().unwrap()),
        (409, "account_exists")
    );
    assert_eq!(s.count("accounts").await, 1);

    // Malformed JSON, wrong content type, oversized body.
    let (status, p) = problem(
        c.post(s.url("/api/v1/citizens"))
            .header("content-type", "application/json")
            .body("{\"name\": ")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str().unwrap()),
        (400, "malformed_json")
    );
    let (status, _) = problem(
        c.post(s.url("/api/v1/citizens"))
            .body("name=x")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 415);
    // The server answers 413 from the declared length, before the body arrives; a client
    // still sending would see its pipe closed, so send the headers alone and read the answer.
    assert_eq!(
        raw_status(&s, "POST /api/v1/citizens", 2 * 1024 * 1024).await,
        413
    );
    assert_eq!(s.count("accounts").await, 1);
    s.stop().await;
}
both_engines!(bad_sign_ups, bad_sign_ups_change_nothing);

async fn wrong_passwords_and_lockout(s: TestServer) {
    let c = &s.client;
    assert_eq!(
        c.post(s.url("/api/v1/citizens"))
            .json(&citizen_json(4))
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let login = id_number(4);
    let wrong = json!({"login": login, "password": "not the password"});
    let (status, known) = problem(
        c.post(s.url("/api/v1/sessions"))
            .json(&wrong)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    let unknown = json!({"login": id_number(999), "password": "not the password"});
    let (status, unknown_p) = problem(
        c.post(s.url("/api/v1/sessions"))
            .json(&unknown)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    // The same answer whether or not the account exists.
    assert_eq!(known, unknown_p);

    for _ in 0..8 {
        let res = c
            .post(s.url("/api/v1/sessions"))
            .json(&wrong)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let (status, p) = problem(
        c.post(s.url("/api/v1/sessions"))
            .json(&wrong)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, p["code"].as_str().unwrap()), (429, "locked_out"));
    // Locked: even the right password is refused for now.
    let right = json!({"login": login, "password": "a sound passphrase"});
    let (status, _) = problem(
        c.post(s.url("/api/v1/sessions"))
            .json(&right)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 429);
    // Another login is not affected.
    assert_eq!(
        c.post(s.url("/api/v1/citizens"))
            .json(&citizen_json(5))
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let other = json!({"login": id_number(5), "password": "a sound passphrase"});
    assert_eq!(
        c.post(s.url("/api/v1/sessions"))
            .json(&other)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let locked: i64 = s.count("auth_audit WHERE outcome = 'locked'").await;
    assert!(locked >= 2);
    s.stop().await;
}
both_engines!(lockout, wrong_passwords_and_lockout);

async fn machine_tokens(s: TestServer) {
    let c = &s.client;
    assert_eq!(
        c.post(s.url("/api/v1/citizens"))
            .json(&citizen_json(6))
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let body: Value = c
        .post(s.url("/api/v1/sessions"))
        .json(&json!({"login": id_number(6), "password": "a sound passphrase"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = body["token"].as_str().unwrap();
    let res = c
        .post(s.url("/api/v1/tokens"))
        .bearer_auth(session)
        .json(&json!({"name": "booking kiosk", "valid_days": 30}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let token = created["token"].as_str().unwrap();
    assert!(token.starts_with("hbt_"));
    let me = c
        .get(s.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let list: Value = c
        .get(s.url("/api/v1/tokens"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["name"], "booking kiosk");
    assert!(!list.to_string().contains(token), "token secret listed");
    let (status, _) = problem(
        c.post(s.url("/api/v1/tokens"))
            .bearer_auth(token)
            .json(&json!({"name": ""}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = problem(
        c.get(s.url("/api/v1/me"))
            .bearer_auth("hbt_forged")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);

    // Revoked: the token stops working at once; revoking again finds nothing.
    let id = created["id"].as_str().unwrap();
    let url = s.url(&format!("/api/v1/tokens/{id}"));
    let res = c.delete(&url).bearer_auth(session).send().await.unwrap();
    assert_eq!(res.status(), 204);
    let res = c
        .get(s.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let (status, _) = problem(c.delete(&url).bearer_auth(session).send().await.unwrap()).await;
    assert_eq!(status, 404);
    s.stop().await;
}
both_engines!(tokens, machine_tokens);

async fn not_found_and_secrets_stay_out_of_logs(s: TestServer) {
    let c = &s.client;
    let res = c.get(s.url("/no/such/page")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("页面不存在"));
    let (status, p) = problem(c.get(s.url("/api/v1/nothing-here")).send().await.unwrap()).await;
    assert_eq!((status, p["code"].as_str().unwrap()), (404, "not_found"));

    let form = citizen_json(7);
    assert_eq!(
        c.post(s.url("/api/v1/citizens"))
            .json(&form)
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let body: Value = c
        .post(s.url("/api/v1/sessions"))
        .json(&json!({"login": id_number(7), "password": "a sound passphrase"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = body["token"].as_str().unwrap();
    c.get(s.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let logs = common::logs();
    assert!(logs.contains("sign_in"), "auth events are logged");
    for secret in [
        id_number(7).as_str(),
        form["phone"].as_str().unwrap(),
        "a sound passphrase",
        token,
    ] {
        assert!(!logs.contains(secret), "{secret} appeared in the logs");
    }
    s.stop().await;
}
both_engines!(not_found_and_logs, not_found_and_secrets_stay_out_of_logs);

async fn one_address_trying_many_logins_is_locked_out(s: TestServer) {
    let c = &s.client;
    assert_eq!(
        c.post(s.url("/api/v1/citizens"))
            .json(&citizen_json(8))
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let mut last = 0;
    for n in 0..identity::domain::MAX_FAILURES_PER_ADDRESS {
        let body = json!({"login": id_number(100 + n as u16), "password": "guess"});
        last = c
            .post(s.url("/api/v1/sessions"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
    }
    assert_eq!(last, 429, "the last failure locks the address");
    let right = json!({"login": id_number(8), "password": "a sound passphrase"});
    let (status, p) = problem(
        c.post(s.url("/api/v1/sessions"))
            .json(&right)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, p["code"].as_str().unwrap()), (429, "locked_out"));
    s.stop().await;
}
both_engines!(
    address_lockout,
    one_address_trying_many_logins_is_locked_out
);
