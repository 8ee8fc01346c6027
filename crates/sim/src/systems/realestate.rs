//! `realestate`, 不动产登记系统: title certificates by owner or co-owner, or by number.
//! XML with PascalCase elements, ISO dates, page/pageSize paging, HTTP Basic. Nothing on
//! record is HTTP 404 with `<Status>404</Status>`.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;

use super::auth::Scheme;
use super::queries::{self, Property};
use super::wire::{self, Dates, Xml};
use super::{Ctx, Format, Spec};

pub(super) static SPEC: Spec = Spec {
    key: "realestate",
    name: "不动产登记系统",
    name_en: "Real Estate Registration Centre title registry",
    format: Format::Xml,
    naming: "PascalCase XML elements",
    dates: Dates::Iso,
    paging: "page (from 1) and pageSize (1-50, default 10); <Total> in the answer",
    envelope: "<BdcResponse><Status>0</Status><Message>…</Message>…</BdcResponse>",
    auth: Scheme::Basic { realm: "bdc" },
    endpoints: &[
        "GET /bdc/ws/certificates?ownerIdNumber=<ID number>&page=1&pageSize=10",
        "GET /bdc/ws/certificate?certNo=<certificate number>",
    ],
    error,
    routes,
};

const DATES: Dates = Dates::Iso;

fn error(status: StatusCode, msg: &str) -> Response {
    let mut x = Xml::new();
    x.open("BdcResponse")
        .leaf("Status", status.as_u16().to_string())
        .leaf("Message", msg);
    wire::xml_response(status, x.finish())
}

fn routes(ctx: Ctx) -> (Router, Router) {
    let guarded = Router::new()
        .route("/bdc/ws/certificates", get(by_owner))
        .route("/bdc/ws/certificate", get(by_number))
        .with_state(ctx);
    (guarded, Router::new())
}

fn usage(u: &str) -> &'static str {
    match u {
        "residential" => "住宅",
        "commercial" => "商业",
        "homestead" => "宅基地",
        _ => "其他",
    }
}

fn certificate(x: &mut Xml, p: &Property) {
    x.open("Certificate").leaf("CertNo", &p.cert_no);
    x.open("Owner")
        .leaf("IdNumber", &p.owner_id)
        .leaf("Name", &p.owner_name)
        .close();
    match (&p.co_owner_id, &p.co_owner_name) {
        (Some(id), Some(name)) => {
            x.open("CoOwner")
                .leaf("IdNumber", id)
                .leaf("Name", name)
                .close();
        }
        _ => {
            x.leaf("CoOwner", "");
        }
    }
    x.leaf("Address", &p.address)
        .leaf("DistrictCode", &p.district_code)
        .leaf("AreaM2", format!("{:.2}", p.area_m2))
        .leaf("Usage", usage(&p.usage))
        .leaf("RegisteredOn", DATES.text(&p.registered_on))
        .leaf_opt("ContractNo", p.contract_no.as_deref())
        .close();
}

async fn by_owner(State(ctx): State<Ctx>, uri: Uri) -> Result<Response, Response> {
    let bad = |m: String| error(StatusCode::BAD_REQUEST, &m);
    let p = wire::params(&uri).map_err(bad)?;
    let id = wire::id_number(wire::required(&p, "ownerIdNumber").map_err(bad)?).map_err(bad)?;
    let page = wire::int_param(&p, "page", 1, 1, 1_000_000).map_err(bad)?;
    let size = wire::int_param(&p, "pageSize", 10, 1, 50).map_err(bad)?;
    let (rows, total) = queries::properties_of(&ctx.db, &id, (page - 1) * size, size)
        .await
        .map_err(|e| wire::db_failed(&SPEC, e))?;
    if total == 0 {
        return Err(error(StatusCode::NOT_FOUND, "未查询到不动产权登记信息"));
    }
    let mut x = Xml::new();
    x.open("BdcResponse")
        .leaf("Status", "0")
        .leaf("Message", "OK")
        .leaf("Page", page.to_string())
        .leaf("PageSize", size.to_string())
        .leaf("Total", total.to_string())
        .open("Certificates");
    for r in &rows {
        certificate(&mut x, r);
    }
    Ok(wire::xml_response(StatusCode::OK, x.finish()))
}

async fn by_number(State(ctx): State<Ctx>, uri: Uri) -> Result<Response, Response> {
    let bad = |m: String| error(StatusCode::BAD_REQUEST, &m);
    let p = wire::params(&uri).map_err(bad)?;
    let no = wire::required(&p, "certNo").map_err(bad)?;
    if no.chars().count() > 64 {
        return Err(bad("certNo too long".into()));
    }
    let found = queries::property(&ctx.db, no)
        .await
        .map_err(|e| wire::db_failed(&SPEC, e))?;
    let Some(prop) = found else {
        return Err(error(StatusCode::NOT_FOUND, "未查询到不动产权登记信息"));
    };
    let mut x = Xml::new();
    x.open("BdcResponse")
        .leaf("Status", "0")
        .leaf("Message", "OK")
        .leaf("Total", "1")
        .open("Certificates");
    certificate(&mut x, &prop);
    Ok(wire::xml_response(StatusCode::OK, x.finish()))
}
