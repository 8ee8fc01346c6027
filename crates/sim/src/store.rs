//! All SQL of the simulated city. Rows arrive in batches from the generator and are written in
//! one transaction, so a city is either all there or not at all: multi-row INSERTs on SQLite,
//! `COPY … FROM STDIN` on PostgreSQL.

use std::collections::BTreeMap;

use kernel::Db;
use sha2::{Digest, Sha256};
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteArguments, SqliteConnection};
use sqlx::{Acquire, Arguments, Row};

use crate::generate::Outcome;
use crate::geo::{Community, District, SubDistrict};
use crate::pick::{date_string, fmt_date};
use crate::rows::{Batch, Record, TABLES, Value};

/// SQLite refuses statements with more bound parameters than this.
const SQLITE_MAX_PARAMS: usize = 32_766;
/// Rows per SQLite INSERT: enough to amortise a statement, few enough that preparing the
/// odd-sized last statement of a batch costs little.
const ROWS_PER_INSERT: usize = 500;

/// Counts of rows written, per table.
pub type Counts = BTreeMap<String, u64>;

/// What flows from the generator to the writer.
pub enum Feed {
    Rows(Box<Batch>),
    /// The generator is done; what it chose for demonstrations.
    Done(Outcome),
}

/// The opening facts of the city's meta row.
pub struct Start<'a> {
    pub seed: u64,
    pub persons: u64,
    pub as_of: &'a str,
    pub generator: &'a str,
    pub started_at: &'a str,
    pub clock: std::time::Instant,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("a city exists already")]
    Exists,
    #[error("the registries hold rows but no city is recorded")]
    NotEmpty,
    #[error("the generator stopped before the city was complete")]
    Stopped,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

const INSERT_META: &str = "INSERT INTO sim_city (id, seed, persons, as_of, generator, started_at) \
                           VALUES (1, $1, $2, $3, $4, $5)";
const FINISH_META: &str = "UPDATE sim_city SET generated_at = $1, elapsed_ms = $2, counts = $3, \
                           demo_person_id = $4, demo_company_code = $5 WHERE id = 1";
const SELECT_META: &str = "SELECT seed, persons, as_of, generator, generated_at, elapsed_ms, counts, \
                           demo_person_id, demo_company_code FROM sim_city WHERE id = 1";

/// Writes a whole city in one transaction, so a city is either complete or absent.
pub async fn write_city(
    db: &Db,
    start: &Start<'_>,
    feed: &mut tokio::sync::mpsc::Receiver<Feed>,
) -> Result<(Counts, Outcome), WriteError> {
    let mut counts: Counts = TABLES.iter().map(|(t, _)| (t.to_string(), 0)).collect();
    // The same transaction body for both engines; only the batch writer differs.
    macro_rules! city_tx {
        ($conn:expr, $indexes:ident, $write:ident $(, $extra:expr)*) => {{
            let mut tx = $conn.begin().await?;
            // The meta row goes in first: it takes SQLite's write lock at once, and a second
            // generation running at the same time stops on its primary key.
            let inserted = sqlx::query(INSERT_META)
                .bind(start.seed as i64)
                .bind(start.persons as i64)
                .bind(start.as_of)
                .bind(start.generator)
                .bind(start.started_at)
                .execute(&mut *tx)
                .await;
            match inserted {
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    return Err(WriteError::Exists)
                }
                other => other?,
            };
            for (table, _) in TABLES {
                let any = sqlx::query(&format!("SELECT 1 FROM {table} LIMIT 1"))
                    .fetch_optional(&mut *tx)
                    .await?;
                if any.is_some() {
                    return Err(WriteError::NotEmpty);
                }
            }
            // Secondary indexes are built once by sorting, after the load, rather than
            // updated row by row; inside the transaction, so nobody sees a table without them.
            let indexes = $indexes(&mut *tx).await?;
            for (name, _) in &indexes {
                sqlx::query(&format!("DROP INDEX {name}")).execute(&mut *tx).await?;
            }
            let outcome = loop {
                match feed.recv().await {
                    Some(Feed::Rows(batch)) => $write(&mut *tx, &batch, &mut counts $(, $extra)*).await?,
                    Some(Feed::Done(outcome)) => break outcome,
                    None => return Err(WriteError::Stopped),
                }
            };
            for (_, definition) in &indexes {
                sqlx::query(definition).execute(&mut *tx).await?;
            }
            sqlx::query(FINISH_META)
                .bind(chrono::Utc::now().to_rfc3339())
                .bind(start.clock.elapsed().as_millis() as i64)
                .bind(serde_json::to_string(&counts).expect("counts serialise"))
                .bind(outcome.demo_person_id.clone())
                .bind(outcome.demo_company_code.clone())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<Outcome, WriteError>(outcome)
        }};
    }
    let outcome = match db {
        Db::Sqlite(pool) => {
            let mut conn = pool.acquire().await?;
            // A big page cache keeps the random-order index inserts in memory during the load.
            sqlx::query("PRAGMA cache_size = -262144")
                .execute(&mut *conn)
                .await?;
            let result = async { city_tx!(conn, indexes_sqlite, write_batch_sqlite) }.await;
            sqlx::query("PRAGMA cache_size = -2000")
                .execute(&mut *conn)
                .await?;
            result?
        }
        Db::Postgres(pool) => {
            let mut conn = pool.acquire().await?;
            let mut buf = Vec::with_capacity(8 << 20);
            async { city_tx!(conn, indexes_pg, write_batch_pg, &mut buf) }.await?
        }
    };
    Ok((counts, outcome))
}

/// The registry tables' secondary indexes as (name, definition), primary keys excepted.
async fn indexes_sqlite(conn: &mut SqliteConnection) -> Result<Vec<(String, String)>, sqlx::Error> {
    let tables: Vec<String> = TABLES.iter().map(|(t, _)| format!("'{t}'")).collect();
    let sql = format!(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
         AND tbl_name IN ({}) ORDER BY name",
        tables.join(", ")
    );
    sqlx::query_as(&sql).fetch_all(conn).await
}

async fn indexes_pg(conn: &mut PgConnection) -> Result<Vec<(String, String)>, sqlx::Error> {
    let tables: Vec<&str> = TABLES.iter().map(|(t, _)| *t).collect();
    sqlx::query_as(
        "SELECT i.indexname::text, i.indexdef FROM pg_indexes i \
         WHERE i.schemaname = current_schema() AND i.tablename = ANY($1) \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
                         WHERE c.conname = i.indexname AND c.connamespace = current_schema()::regnamespace) \
         ORDER BY i.indexname",
    )
    .bind(tables)
    .fetch_all(conn)
    .await
}

macro_rules! each_table {
    ($batch:expr, $f:ident ! ($($arg:expr),*)) => {{
        let b = $batch;
        $f!(&b.districts $(, $arg)*);
        $f!(&b.sub_districts $(, $arg)*);
        $f!(&b.communities $(, $arg)*);
        $f!(&b.schools $(, $arg)*);
        $f!(&b.school_districts $(, $arg)*);
        $f!(&b.households $(, $arg)*);
        $f!(&b.persons $(, $arg)*);
        $f!(&b.marriages $(, $arg)*);
        $f!(&b.disabilities $(, $arg)*);
        $f!(&b.births $(, $arg)*);
        $f!(&b.properties $(, $arg)*);
        $f!(&b.contracts $(, $arg)*);
        $f!(&b.deed_taxes $(, $arg)*);
        $f!(&b.employment $(, $arg)*);
        $f!(&b.insurance $(, $arg)*);
        $f!(&b.housing_funds $(, $arg)*);
        $f!(&b.students $(, $arg)*);
        $f!(&b.companies $(, $arg)*);
    }};
}

async fn write_batch_sqlite(
    conn: &mut SqliteConnection,
    batch: &Batch,
    counts: &mut Counts,
) -> Result<(), sqlx::Error> {
    macro_rules! w {
        ($rows:expr, $conn:expr, $counts:expr) => {
            insert_sqlite($conn, $rows, $counts).await?
        };
    }
    each_table!(batch, w!(conn, counts));
    Ok(())
}

async fn write_batch_pg(
    conn: &mut PgConnection,
    batch: &Batch,
    counts: &mut Counts,
    buf: &mut Vec<u8>,
) -> Result<(), sqlx::Error> {
    macro_rules! w {
        ($rows:expr, $conn:expr, $counts:expr, $buf:expr) => {
            copy_pg($conn, $rows, $counts, $buf).await?
        };
    }
    each_table!(batch, w!(conn, counts, buf));
    Ok(())
}

fn bump(counts: &mut Counts, table: &str, n: usize) {
    *counts.entry(table.to_string()).or_default() += n as u64;
}

/// `INSERT OR FAIL INTO table (columns) VALUES (?, …), …` for `rows` rows.
fn insert_sql<R: Record>(rows: usize) -> String {
    let n = R::COLUMNS.len();
    let one = format!("({})", vec!["?"; n].join(", "));
    // OR FAIL: a failing row ends the statement without undoing its earlier rows, so SQLite
    // keeps no statement journal (a copy of every page touched); the whole city's
    // transaction is rolled back on any failure anyway.
    format!(
        "INSERT OR FAIL INTO {} ({}) VALUES {}",
        R::TABLE,
        R::COLUMNS.join(", "),
        vec![one; rows].join(", ")
    )
}

fn sqlite_args<'a, R: Record>(rows: &'a [R]) -> Result<SqliteArguments<'a>, sqlx::Error> {
    let mut args = SqliteArguments::default();
    let mut values = Vec::with_capacity(R::COLUMNS.len());
    for row in rows {
        values.clear();
        row.values(&mut values);
        for v in values.drain(..) {
            match v {
                Value::Text(s) => args.add(s),
                Value::Int(i) => args.add(i),
                Value::Real(f) => args.add(f),
                Value::Date(d) => args.add(date_string(d)),
                Value::Null => args.add(None::<&str>),
            }
            .map_err(sqlx::Error::Encode)?;
        }
    }
    Ok(args)
}

async fn insert_sqlite<R: Record>(
    conn: &mut SqliteConnection,
    rows: &[R],
    counts: &mut Counts,
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let per_statement = (SQLITE_MAX_PARAMS / R::COLUMNS.len()).min(ROWS_PER_INSERT);
    let full_sql = insert_sql::<R>(per_statement);
    let chunks: Vec<&[R]> = rows.chunks(per_statement).collect();
    let tail_sql = insert_sql::<R>(chunks.last().map_or(0, |c| c.len()));
    let sql_for = |c: &[R]| {
        if c.len() == per_statement {
            full_sql.as_str()
        } else {
            tail_sql.as_str()
        }
    };
    // SQLite runs a statement on its own thread; the arguments of the next statement are
    // bound meanwhile, so both cores stay busy.
    let mut pending = Some((chunks[0], sqlite_args(chunks[0])?));
    for next in chunks.iter().skip(1).map(Some).chain([None]) {
        let (chunk, args) = pending.take().expect("a statement is pending");
        let run = sqlx::query_with(sql_for(chunk), args)
            .persistent(chunk.len() == per_statement)
            .execute(&mut *conn);
        let prepare = async { next.map(|c| sqlite_args(c).map(|a| (*c, a))).transpose() };
        let (done, prepared) = tokio::join!(run, prepare);
        done?;
        pending = prepared?;
    }
    bump(counts, R::TABLE, rows.len());
    Ok(())
}

/// Appends `s` escaped for COPY's text format.
fn copy_text(s: &str, out: &mut Vec<u8>) {
    for &b in s.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

async fn copy_pg<R: Record>(
    conn: &mut PgConnection,
    rows: &[R],
    counts: &mut Counts,
    buf: &mut Vec<u8>,
) -> Result<(), sqlx::Error> {
    use std::io::Write;
    if rows.is_empty() {
        return Ok(());
    }
    buf.clear();
    let mut values = Vec::with_capacity(R::COLUMNS.len());
    let mut date = String::with_capacity(10);
    for row in rows {
        values.clear();
        row.values(&mut values);
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                buf.push(b'\t');
            }
            match v {
                Value::Text(s) => copy_text(s, buf),
                Value::Int(n) => write!(buf, "{n}").expect("write to memory"),
                Value::Real(f) => write!(buf, "{f}").expect("write to memory"),
                Value::Date(d) => {
                    date.clear();
                    fmt_date(*d, &mut date);
                    buf.extend_from_slice(date.as_bytes());
                }
                Value::Null => buf.extend_from_slice(b"\\N"),
            }
        }
        buf.push(b'\n');
    }
    let sql = format!("COPY {} ({}) FROM STDIN", R::TABLE, R::COLUMNS.join(", "));
    let mut copy = conn.copy_in_raw(&sql).await?;
    copy.send(buf.as_slice()).await?;
    copy.finish().await?;
    bump(counts, R::TABLE, rows.len());
    Ok(())
}

/// The meta row as stored.
pub struct MetaRow {
    pub seed: i64,
    pub persons: i64,
    pub as_of: String,
    pub generator: String,
    pub generated_at: Option<String>,
    pub elapsed_ms: Option<i64>,
    pub counts: Option<String>,
    pub demo_person_id: Option<String>,
    pub demo_company_code: Option<String>,
}

pub async fn meta(db: &Db) -> Result<Option<MetaRow>, sqlx::Error> {
    let row = kernel::with_db!(db, pool => {
        sqlx::query(SELECT_META).fetch_optional(pool).await?.map(|r| MetaRow {
            seed: r.get(0),
            persons: r.get(1),
            as_of: r.get(2),
            generator: r.get(3),
            generated_at: r.get(4),
            elapsed_ms: r.get(5),
            counts: r.get(6),
            demo_person_id: r.get(7),
            demo_company_code: r.get(8),
        })
    });
    Ok(row)
}

pub struct PersonFacts {
    pub id_number: String,
    pub name: String,
    pub gender: String,
    pub birth_date: String,
    pub phone: Option<String>,
    pub household_id: String,
    pub address: String,
}

pub async fn person(db: &Db, id_number: &str) -> Result<Option<PersonFacts>, sqlx::Error> {
    const SQL: &str = "SELECT id_number, name, gender, birth_date, phone, household_id, address \
                       FROM pop_persons WHERE id_number = $1";
    let row = kernel::with_db!(db, pool => {
        sqlx::query(SQL).bind(id_number).fetch_optional(pool).await?.map(|r| PersonFacts {
            id_number: r.get(0),
            name: r.get(1),
            gender: r.get(2),
            birth_date: r.get(3),
            phone: r.get(4),
            household_id: r.get(5),
            address: r.get(6),
        })
    });
    Ok(row)
}

/// The current spouse of a married person, from the marriage registry: (id number, name).
pub async fn spouse(db: &Db, id_number: &str) -> Result<Option<(String, String)>, sqlx::Error> {
    const SQL: &str = "SELECT CASE WHEN husband_id = $1 THEN wife_id ELSE husband_id END, \
                              CASE WHEN husband_id = $1 THEN wife_name ELSE husband_name END \
                       FROM civil_marriages \
                       WHERE (husband_id = $1 OR wife_id = $1) AND status = 'married' \
                       ORDER BY registered_on DESC, registration_no LIMIT 1";
    kernel::with_db!(db, pool => {
        sqlx::query_as::<_, (String, String)>(SQL).bind(id_number).fetch_optional(pool).await
    })
}

/// Children by their birth records, eldest first: (id number, name).
pub async fn children(db: &Db, id_number: &str) -> Result<Vec<(String, String)>, sqlx::Error> {
    const SQL: &str = "SELECT child_id, child_name FROM health_births \
                       WHERE father_id = $1 OR mother_id = $1 ORDER BY born_on, child_id";
    kernel::with_db!(db, pool => {
        sqlx::query_as::<_, (String, String)>(SQL).bind(id_number).fetch_all(pool).await
    })
}

pub async fn first_property(db: &Db, id_number: &str) -> Result<Option<String>, sqlx::Error> {
    const SQL: &str = "SELECT cert_no FROM prop_properties WHERE owner_id = $1 OR co_owner_id = $1 \
                       ORDER BY registered_on, cert_no LIMIT 1";
    kernel::with_db!(db, pool => {
        sqlx::query_scalar::<_, String>(SQL).bind(id_number).fetch_optional(pool).await
    })
}

pub async fn housing_fund_account(db: &Db, id_number: &str) -> Result<Option<String>, sqlx::Error> {
    const SQL: &str = "SELECT account_no FROM hf_accounts WHERE id_number = $1 \
                       ORDER BY opened_on DESC, account_no LIMIT 1";
    kernel::with_db!(db, pool => {
        sqlx::query_scalar::<_, String>(SQL).bind(id_number).fetch_optional(pool).await
    })
}

/// (credit code, name, legal person's ID number, legal person's name).
pub async fn company(
    db: &Db,
    credit_code: &str,
) -> Result<Option<(String, String, String, String)>, sqlx::Error> {
    const SQL: &str = "SELECT credit_code, name, legal_person_id, legal_person_name \
                       FROM mr_companies WHERE credit_code = $1";
    kernel::with_db!(db, pool => {
        sqlx::query_as::<_, (String, String, String, String)>(SQL)
            .bind(credit_code)
            .fetch_optional(pool)
            .await
    })
}

pub async fn geography(db: &Db) -> Result<Vec<District>, sqlx::Error> {
    type Three = (String, String, String);
    type Four = (String, String, String, Option<String>);
    let (districts, subs, communities) = kernel::with_db!(db, pool => {
        let d: Vec<Three> = sqlx::query_as("SELECT code, name, kind FROM geo_districts ORDER BY code")
            .fetch_all(pool)
            .await?;
        let s: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT district_code, code, name, kind, area FROM geo_sub_districts ORDER BY code",
        )
        .fetch_all(pool)
        .await?;
        let c: Vec<Four> = sqlx::query_as(
            "SELECT sub_district_code, code, name, kind FROM geo_communities ORDER BY code",
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|(a, b, c, d): (String, String, String, String)| (a, b, c, Some(d)))
        .collect();
        (d, s, c)
    });
    let mut out: Vec<District> = districts
        .into_iter()
        .map(|(code, name, kind)| District {
            code,
            name,
            kind,
            sub_districts: Vec::new(),
        })
        .collect();
    for (district_code, code, name, kind, area) in subs {
        if let Some(d) = out.iter_mut().find(|d| d.code == district_code) {
            d.sub_districts.push(SubDistrict {
                code,
                name,
                kind,
                area,
                communities: Vec::new(),
            });
        }
    }
    for (sub_code, code, name, kind) in communities {
        let target = out
            .iter_mut()
            .flat_map(|d| d.sub_districts.iter_mut())
            .find(|s| s.code == sub_code);
        if let Some(s) = target {
            s.communities.push(Community {
                code,
                name,
                kind: kind.unwrap_or_default(),
            });
        }
    }
    Ok(out)
}

/// A SHA-256 of each registry table's rows, independent of row order and of the engine:
/// every value is rendered as text (areas as whole hundredths, since the engines print
/// floating point differently), rows are sorted, then hashed.
pub async fn digest(db: &Db) -> Result<BTreeMap<String, String>, sqlx::Error> {
    let mut out = BTreeMap::new();
    for (table, columns) in TABLES {
        let parts: Vec<String> = columns
            .iter()
            .map(|c| {
                if *c == "area_m2" {
                    format!("COALESCE(CAST(CAST(ROUND({c} * 100) AS BIGINT) AS TEXT), '~')")
                } else {
                    format!("COALESCE(CAST({c} AS TEXT), '~')")
                }
            })
            .collect();
        let sql = format!("SELECT {} FROM {table}", parts.join(" || '|' || "));
        let mut rows: Vec<String> = kernel::with_db!(db, pool => {
            sqlx::query_scalar::<_, String>(&sql).fetch_all(pool).await?
        });
        rows.sort_unstable();
        let mut h = Sha256::new();
        for r in &rows {
            h.update(r.as_bytes());
            h.update(b"\n");
        }
        out.insert(table.to_string(), hex::encode(h.finalize()));
    }
    Ok(out)
}
