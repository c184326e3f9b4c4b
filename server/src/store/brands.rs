//! Brands: a slug, a name, and the website origins allowed to embed the brand's widget
//! (kept as a JSON array).

use super::{Db, Error};

#[derive(sqlx::FromRow)]
pub struct BrandRow {
    pub id: String,
    pub name: String,
    /// A JSON array of origins.
    pub allowed_origins: String,
}

impl BrandRow {
    pub fn origins(&self) -> Vec<String> {
        serde_json::from_str(&self.allowed_origins).unwrap_or_default()
    }
}

/// Every brand (or just `only`), by name.
pub async fn list(db: &mut impl Db, only: Option<&str>) -> Result<Vec<BrandRow>, Error> {
    on!(db, |c| sqlx::query_as(
        "SELECT id, name, allowed_origins FROM brands WHERE $1 IS NULL OR id = $1
         ORDER BY lower(name), id",
    )
    .bind(only)
    .fetch_all(c)
    .await)
}

pub async fn exists(db: &mut impl Db, id: &str) -> Result<bool, Error> {
    on!(db, |c| sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM brands WHERE id = $1)"
    )
    .bind(id)
    .fetch_one(c)
    .await)
}

/// A brand's allowed origins, if there is such a brand.
pub async fn allowed_origins(db: &mut impl Db, id: &str) -> Result<Option<Vec<String>>, Error> {
    let json: Option<String> = on!(db, |c| sqlx::query_scalar(
        "SELECT allowed_origins FROM brands WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)?;
    Ok(json.map(|j| serde_json::from_str(&j).unwrap_or_default()))
}

/// Adds a brand; `false` if one with that id exists (nothing changes).
pub async fn insert(
    db: &mut impl Db,
    id: &str,
    name: &str,
    origins: &[String],
    now: &str,
) -> Result<bool, Error> {
    let origins = serde_json::to_string(origins).unwrap_or_else(|_| "[]".into());
    let inserted = exec!(db, |c| sqlx::query(
        "INSERT INTO brands (id, name, allowed_origins, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(name)
    .bind(origins)
    .bind(now)
    .execute(c)
    .await)?;
    Ok(inserted == 1)
}

/// Renames a brand and/or replaces its origins; `false` if there is no such brand.
pub async fn update(
    db: &mut impl Db,
    id: &str,
    name: Option<&str>,
    origins: Option<&[String]>,
) -> Result<bool, Error> {
    let origins = origins.map(|o| serde_json::to_string(o).unwrap_or_else(|_| "[]".into()));
    let changed = exec!(db, |c| {
        sqlx::query(
        "UPDATE brands SET name = COALESCE($1, name), allowed_origins = COALESCE($2, allowed_origins)
         WHERE id = $3",
    )
    .bind(name)
    .bind(origins)
    .bind(id)
    .execute(c).await
    })?;
    Ok(changed == 1)
}
