//! Profiles: the `profiles` table, each kept as uploaded with its digest.

use sqlx::FromRow;

use super::{Store, StoreError};

/// An uploaded, validated profile.
#[derive(Debug, Clone, FromRow)]
pub struct ProfileRow {
    pub id: String,
    pub profile_id: String,
    pub name: String,
    pub vendor: String,
    pub digest: String,
    pub file_name: String,
    pub toml: String,
    pub uploaded_by: String,
    pub uploaded_at: i64,
}

impl Store {
    /// Stores a validated profile; the same file uploaded again returns the stored one.
    pub async fn insert_profile(&self, p: &ProfileRow) -> Result<ProfileRow, StoreError> {
        sqlx::query(
            "INSERT INTO profiles (id, profile_id, name, vendor, digest, file_name, toml, uploaded_by, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (digest) DO NOTHING",
        )
        .bind(&p.id)
        .bind(&p.profile_id)
        .bind(&p.name)
        .bind(&p.vendor)
        .bind(&p.digest)
        .bind(&p.file_name)
        .bind(&p.toml)
        .bind(&p.uploaded_by)
        .bind(p.uploaded_at)
        .execute(&self.pool)
        .await?;
        Ok(sqlx::query_as("SELECT * FROM profiles WHERE digest = $1")
            .bind(&p.digest)
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn list_profiles(&self) -> Result<Vec<ProfileRow>, StoreError> {
        Ok(
            sqlx::query_as("SELECT * FROM profiles ORDER BY profile_id, uploaded_at")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn get_profile(&self, id: &str) -> Result<Option<ProfileRow>, StoreError> {
        Ok(sqlx::query_as("SELECT * FROM profiles WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }
}
