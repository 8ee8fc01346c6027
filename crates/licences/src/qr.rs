//! QR codes as inline SVG.
//!
//! A licence's QR code holds the URL of its public verification page with the signed payload
//! as the last path segment: `{origin}/v/HBL1.<content>.<signature>`. A phone opens the page,
//! which also checks revocation; an offline verifier takes the last segment and checks the
//! signature against the published keys (`GET /api/v1/licences/keys`).

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// The URL a licence's QR code holds.
pub fn verify_url(origin: &str, payload: &str) -> String {
    format!("{}/v/{payload}", origin.trim_end_matches('/'))
}

/// An SVG of `data`, without the XML declaration so it can sit inside a page; `None` when
/// the data do not fit in a QR code.
pub fn svg(data: &str) -> Option<String> {
    // M corrects 15 % of damage; fall back to L for long payloads.
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .or_else(|_| QrCode::with_error_correction_level(data.as_bytes(), EcLevel::L))
        .ok()?;
    let image = code
        .render::<svg::Color>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    let start = image.find("<svg")?;
    Some(image[start..].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_payload_fits_and_renders_inline() {
        let url = verify_url("https://haoban.example/", &"A".repeat(1200));
        assert!(url.starts_with("https://haoban.example/v/AAA"));
        let s = svg(&url).expect("fits");
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(svg(&"x".repeat(4000)).is_none());
    }
}
