//! `fund`, 住房公积金系统: housing-fund accounts by ID number. XML with pinyin-abbreviated
//! elements (`grzh` 个人账号, `zjhm` 证件号码, `khrq` 开户日期, …), dates `20240131`, money in
//! yuan, HTTP Basic. Nobody on record is HTTP 200 with `retcode` 200001.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;

use super::auth::Scheme;
use super::queries::{self, FundAccount};
use super::wire::{self, Dates, Xml};
use super::{Ctx, Format, Spec};

pub(super) static SPEC: Spec = Spec {
    key: "fund",
    name: "住房公积金系统",
    name_en: "Housing Provident Fund Centre account system",
    format: Format::Xml,
    naming: "pinyin abbreviations (XML elements)",
    dates: Dates::Compact,
    paging: "none: every account of the person",
    envelope: "<root><head><retcode>000000</retcode><retmsg>…</retmsg></head><body>…</body></root>",
    auth: Scheme::Basic { realm: "gjj" },
    endpoints: &["GET /gjj/api/grzhxx?zjhm=<ID number>&zjlx=01"],
    error,
    routes,
};

const DATES: Dates = Dates::Compact;

fn envelope(status: StatusCode, code: &str, msg: &str, body: impl FnOnce(&mut Xml)) -> Response {
    let mut x = Xml::new();
    x.open("root")
        .open("head")
        .leaf("retcode", code)
        .leaf("retmsg", msg)
        .close()
        .open("body");
    body(&mut x);
    wire::xml_response(status, x.finish())
}

fn error(status: StatusCode, msg: &str) -> Response {
    let code = match status.as_u16() {
        400 => "900400",
        401 => "900401",
        404 => "900404",
        _ => "999999",
    };
    envelope(status, code, msg, |_| {})
}

fn routes(ctx: Ctx) -> (Router, Router) {
    let guarded = Router::new()
        .route("/gjj/api/grzhxx", get(accounts))
        .with_state(ctx);
    (guarded, Router::new())
}

fn account(x: &mut Xml, a: &FundAccount) {
    let sealed = a.status == "sealed";
    x.open("grzhxx")
        .leaf("grzh", &a.account_no)
        .leaf("xingming", &a.name)
        .leaf("zjlx", "01")
        .leaf("zjhm", &a.id_number)
        .leaf_opt("dwzh", a.employer_code.as_deref())
        .leaf("grzhye", wire::yuan(a.balance_cents))
        .leaf("yjce", wire::yuan(a.monthly_deposit_cents))
        .leaf("khrq", DATES.text(&a.opened_on))
        .leaf("grzhzt", if sealed { "02" } else { "01" })
        .leaf("grzhztmc", if sealed { "封存" } else { "正常" })
        .close();
}

async fn accounts(State(ctx): State<Ctx>, uri: Uri) -> Result<Response, Response> {
    let bad = |m: &str| error(StatusCode::BAD_REQUEST, m);
    let p = wire::params(&uri).map_err(|m| bad(&m))?;
    if p.get("zjlx").is_some_and(|t| t != "01") {
        return Err(bad("仅支持证件类型01（居民身份证）"));
    }
    let zjhm = wire::required(&p, "zjhm").map_err(|_| bad("缺少证件号码zjhm"))?;
    let id = wire::id_number(zjhm).map_err(|_| bad("证件号码格式错误"))?;
    let rows = queries::fund_accounts(&ctx.db, &id)
        .await
        .map_err(|e| wire::db_failed(&SPEC, e))?;
    if rows.is_empty() {
        return Ok(envelope(
            StatusCode::OK,
            "200001",
            "无此个人账户",
            |x| {
                x.leaf("zhsl", "0");
            },
        ));
    }
    Ok(envelope(StatusCode::OK, "000000", "交易成功", |x| {
        x.leaf("zhsl", rows.len().to_string()).open("list");
        for a in &rows {
            account(x, a);
        }
    }))
}
