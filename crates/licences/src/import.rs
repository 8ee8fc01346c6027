//! Bulk import of licences from CSV (`haoban licences import FILE.csv`).
//!
//! The file is read one record at a time, so its size does not matter. The first row names
//! the columns:
//!
//! | column          | required | content |
//! |-----------------|----------|---------|
//! | `type`          | yes      | licence type code in the catalog (`marriage_certificate`) |
//! | `holder_number` | yes      | the holder's ID number (person) or credit code (company) |
//! | `holder_name`   | yes      | the holder's name |
//! | `valid_from`    | no       | `YYYY-MM-DD`; empty: the day of import |
//! | `valid_until`   | no       | `YYYY-MM-DD`; empty: from the type's validity |
//! | any element code, e.g. `person.name` | no | a printed field; empty cells are left out |
//!
//! Good rows are issued and signed in batches of [`BATCH`], each batch in one transaction
//! with its serial numbers, so an interrupted import leaves whole batches and no gaps in the
//! numbering. A bad row is reported with its line number and every reason, and the rest are
//! imported.

use std::collections::BTreeMap;
use std::io::Read;

use catalog::Catalog;
use serde::Serialize;

use crate::service::{Licences, NewLicence};

#[derive(Debug, Default, Serialize)]
pub struct ImportReport {
    pub imported: u64,
    pub rejected: Vec<Rejected>,
}

#[derive(Debug, Serialize)]
pub struct Rejected {
    /// 1-based line in the file where the record starts.
    pub line: u64,
    pub reasons: Vec<String>,
}

/// Rows per transaction: enough to spread the cost of a durable commit, few enough that
/// other issuers of the same type wait only briefly for the serial counter.
pub const BATCH: usize = 500;

const FIXED: &[&str] = &[
    "type",
    "holder_number",
    "holder_name",
    "valid_from",
    "valid_until",
];

fn describe(errors: &[kernel::FieldError]) -> Vec<String> {
    errors
        .iter()
        .map(|e| format!("{}: {} / {}", e.field, e.message.zh, e.message.en))
        .collect()
}

/// Issues the pending rows in one transaction.
async fn flush(
    licences: &Licences,
    catalog: &Catalog,
    issued_by: &str,
    pending: &mut Vec<(u64, NewLicence)>,
    report: &mut ImportReport,
) -> Result<(), sqlx::Error> {
    if pending.is_empty() {
        return Ok(());
    }
    let (lines, news): (Vec<u64>, Vec<NewLicence>) = pending.drain(..).unzip();
    let issued = licences.issue_many(catalog, &news, issued_by).await?;
    for (line, r) in lines.into_iter().zip(issued) {
        match r {
            Ok(_) => report.imported += 1,
            Err(errors) => report.rejected.push(Rejected {
                line,
                reasons: describe(&errors),
            }),
        }
    }
    Ok(())
}

fn date(cell: Option<&str>, column: &str, reasons: &mut Vec<String>) -> Option<chrono::NaiveDate> {
    let cell = cell.map(str::trim).filter(|c| !c.is_empty())?;
    match cell.parse() {
        Ok(d) => Some(d),
        Err(_) => {
            reasons.push(format!(
                "{column}: 日期应为 YYYY-MM-DD / the date must be YYYY-MM-DD, not {cell:?}"
            ));
            None
        }
    }
}

/// Imports every record of `input`; `issued_by` is recorded on each licence.
pub async fn import<R: Read>(
    licences: &Licences,
    catalog: &Catalog,
    input: R,
    issued_by: &str,
) -> anyhow::Result<ImportReport> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers = reader.headers()?.clone();
    let position = |name: &str| headers.iter().position(|h| h == name);
    for required in &FIXED[..3] {
        if position(required).is_none() {
            anyhow::bail!("the CSV file has no column \"{required}\" in its first row");
        }
    }
    let unknown: Vec<&str> = headers
        .iter()
        .filter(|h| !FIXED.contains(h) && catalog.element(h).is_none())
        .collect();
    if !unknown.is_empty() {
        anyhow::bail!(
            "columns that are neither fixed nor data elements: {}",
            unknown.join(", ")
        );
    }
    let mut report = ImportReport::default();
    let mut pending: Vec<(u64, NewLicence)> = Vec::with_capacity(BATCH);
    let mut record = csv::StringRecord::new();
    loop {
        let line_before = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    // What was read before is kept, as when each row was its own transaction.
                    flush(licences, catalog, issued_by, &mut pending, &mut report).await?;
                    return Err(e.into());
                }
                let line = e.position().map_or(line_before, |p| p.line());
                report.rejected.push(Rejected {
                    line,
                    reasons: vec![format!("CSV: {e}")],
                });
                continue;
            }
        }
        let line = record.position().map_or(line_before, |p| p.line());
        let cell = |name: &str| position(name).and_then(|i| record.get(i));
        let mut reasons = Vec::new();
        let valid_from = date(cell("valid_from"), "valid_from", &mut reasons);
        let valid_until = date(cell("valid_until"), "valid_until", &mut reasons);
        let fields: BTreeMap<String, String> = headers
            .iter()
            .zip(record.iter())
            .filter(|(h, v)| !FIXED.contains(h) && !v.is_empty())
            .map(|(h, v)| (h.to_string(), v.to_string()))
            .collect();
        let new = NewLicence {
            type_code: cell("type").unwrap_or_default().to_string(),
            holder_number: cell("holder_number").unwrap_or_default().to_string(),
            holder_name: cell("holder_name").unwrap_or_default().to_string(),
            fields,
            valid_from,
            valid_until,
        };
        if let Err(errors) = Licences::check(catalog, &new, chrono::Utc::now().date_naive()) {
            reasons.extend(describe(&errors));
        }
        if !reasons.is_empty() {
            report.rejected.push(Rejected { line, reasons });
            continue;
        }
        pending.push((line, new));
        if pending.len() >= BATCH {
            flush(licences, catalog, issued_by, &mut pending, &mut report).await?;
        }
    }
    flush(licences, catalog, issued_by, &mut pending, &mut report).await?;
    // A row rejected when its batch was issued is reported after later bad rows.
    report.rejected.sort_by_key(|r| r.line);
    tracing::info!(
        imported = report.imported,
        rejected = report.rejected.len(),
        "licence import finished"
    );
    Ok(report)
}
