//! People and their sessions: the `users` and `sessions` tables.

use sqlx::FromRow;
use uuid::Uuid;

use super::{Store, StoreError, unique};

/// A person who can log in.
#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub role: String,
    pub password_hash: String,
    pub created_at: i64,
    /// 1 while the password is one-time (chosen for the person, not by them).
    pub must_change_password: i64,
}

impl UserRow {
    /// Whether the person must choose their own password before anything else.
    pub fn must_change_password(&self) -> bool {
        self.must_change_password != 0
    }
}

impl Store {
    pub async fn count_users(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?)
    }

    /// A new person with a one-time password (they choose their own at first log-in).
    pub async fn create_user(
        &self,
        username: &str,
        role: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let id = Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO users (id, username, role, password_hash, created_at, must_change_password) \
             VALUES ($1, $2, $3, $4, $5, 1)",
        )
        .bind(&id)
        .bind(username)
        .bind(role)
        .bind(password_hash)
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(|e| unique(e, format!("a user named {username:?} exists already")))?;
        Ok(id)
    }

    /// Sets a person's password and ends all their sessions, at once: a password someone else
    /// chose (`one_time`) must be changed at the next log-in. False for no such person.
    pub async fn set_password(
        &self,
        username: &str,
        hash: &str,
        one_time: bool,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = $2 WHERE username = $3",
        )
        .bind(hash)
        .bind(i64::from(one_time))
        .bind(username)
        .execute(&mut *tx)
        .await?;
        end_sessions(&mut tx, username).await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// A person chose their own password: it is no longer one-time, and every session of theirs
    /// but `keep` (the one they changed it from) ends.
    pub async fn change_own_password(
        &self,
        user_id: &str,
        hash: &str,
        keep: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1, must_change_password = 0 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user_id)
            .bind(keep)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives a person another role and ends their sessions (what they may do changed). The last
    /// administrator cannot be made a reviewer. False for no such person.
    pub async fn set_role(&self, username: &str, role: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        if role != "admin" {
            self.keep_an_admin(&mut tx, username, "made a reviewer")
                .await?;
        }
        let done = sqlx::query("UPDATE users SET role = $1 WHERE username = $2")
            .bind(role)
            .bind(username)
            .execute(&mut *tx)
            .await?;
        end_sessions(&mut tx, username).await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes a person and their sessions. The last administrator cannot be removed. False for
    /// no such person.
    pub async fn remove_user(&self, username: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        self.keep_an_admin(&mut tx, username, "removed").await?;
        end_sessions(&mut tx, username).await?;
        let done = sqlx::query("DELETE FROM users WHERE username = $1")
            .bind(username)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Refuses a change that would leave no administrator: `username` is one, and no other is.
    async fn keep_an_admin(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        username: &str,
        change: &str,
    ) -> Result<(), StoreError> {
        let is_admin: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE username = $1 AND role = 'admin'")
                .bind(username)
                .fetch_one(&mut **tx)
                .await?;
        let others: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE username <> $1 AND role = 'admin'",
        )
        .bind(username)
        .fetch_one(&mut **tx)
        .await?;
        if is_admin > 0 && others == 0 {
            return Err(StoreError::Conflict(format!(
                "{username:?} is the only administrator and cannot be {change}; make another person an administrator first"
            )));
        }
        Ok(())
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        Ok(sqlx::query_as("SELECT * FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn list_users(&self) -> Result<Vec<UserRow>, StoreError> {
        Ok(sqlx::query_as("SELECT * FROM users ORDER BY username")
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(now_ms)
        .bind(expires_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user a live session belongs to.
    pub async fn session_user(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<UserRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Ends every session of the person named `username`, inside `tx`.
async fn end_sessions(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    username: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE username = $1)")
        .bind(username)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
