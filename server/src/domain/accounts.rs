//! Who is calling, and signing in and out.
//!
//! Visitors hold a bearer token for one conversation; console accounts a session (bearer,
//! or the same in an HttpOnly cookie). Both are 256 random bits stored as SHA-256
//! hashes. A wrong password and an unknown email look the same: 401, after the same
//! argon2 work.

use std::sync::LazyLock;

use chrono::{Duration, Utc};
use paycard_core::api::{OperatorAccount, Role, StreamTicket};
use paycard_core::schema::{LOGIN_EMAIL_MAX_CHARS, PASSWORD_MAX_CHARS};
use paycard_core::validation::{FieldError, Problem};

use crate::error::AppError;
use crate::secrets::{self, hash_secret, new_secret, timestamp};
use crate::state::AppState;
use crate::{password, store};

pub const SESSION_HOURS: i64 = 12;
pub const STREAM_TICKET_SECONDS: u32 = 60;

/// A visitor, by their token: they may act only in this conversation.
#[derive(Debug, Clone)]
pub struct VisitorAuth {
    pub conversation_id: String,
    pub brand_id: String,
    pub visitor_name: String,
    /// The hash of the visitor's token: what their live streams are held by.
    pub credential: String,
}

/// A signed-in console account.
#[derive(Debug, Clone)]
pub struct OperatorAuth {
    pub account: OperatorAccount,
    /// The hash of the session token: what sign-out revokes, live streams included.
    pub credential: String,
}

impl OperatorAuth {
    /// Operators and admins alike see only the brands they belong to.
    pub fn works_for(&self, brand_id: &str) -> bool {
        self.account.brands.iter().any(|b| b == brand_id)
    }

    pub fn ensure_brand(&self, brand_id: &str) -> Result<(), AppError> {
        if self.works_for(brand_id) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn is_admin(&self) -> bool {
        self.account.role == Role::Admin
    }
}

/// Either side: for what both may do (read a card, open a live stream).
#[derive(Debug, Clone)]
pub enum Caller {
    Visitor(VisitorAuth),
    Operator(OperatorAuth),
}

/// The visitor holding `token`, if it is one.
pub async fn visitor(state: &AppState, token: &str) -> Result<Option<VisitorAuth>, AppError> {
    if !token.starts_with(secrets::VISITOR_TOKEN) {
        return Ok(None);
    }
    let credential = hash_secret(token);
    let mut db = state.store.read().await?;
    let found = store::conversations::by_visitor_token(&mut db, &credential).await?;
    Ok(
        found.map(|(conversation_id, brand_id, visitor_name)| VisitorAuth {
            conversation_id,
            brand_id,
            visitor_name,
            credential,
        }),
    )
}

/// The account of a live session, by the session's hash.
async fn session_account(
    state: &AppState,
    credential: &str,
) -> Result<Option<OperatorAccount>, AppError> {
    let mut db = state.store.read().await?;
    match store::accounts::session_account(&mut db, credential, &secrets::now()).await? {
        Some(id) => Ok(store::accounts::account(&mut db, &id).await?),
        None => Ok(None),
    }
}

/// The console account signed in with `token`, if it is a live session, or the account
/// an API key acts as.
pub async fn operator(state: &AppState, token: &str) -> Result<Option<OperatorAuth>, AppError> {
    if token.starts_with(secrets::API_KEY) {
        return super::api_keys::operator(state, token).await;
    }
    if !token.starts_with(secrets::SESSION_TOKEN) {
        return Ok(None);
    }
    let credential = hash_secret(token);
    Ok(session_account(state, &credential)
        .await?
        .map(|account| OperatorAuth {
            account,
            credential,
        }))
}

/// Verifying against this when the email is unknown makes both failures cost the same.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| password::hash("paycard-timing-equaliser"));

/// Signs in: checks the password (through the limits and the hashing gate) and opens
/// a session. Returns the session's token, shown once.
pub async fn sign_in(
    state: &AppState,
    client: std::net::IpAddr,
    email: &str,
    password: String,
) -> Result<(String, OperatorAccount), AppError> {
    let mut too_long = Vec::new();
    if email.chars().count() > LOGIN_EMAIL_MAX_CHARS {
        too_long.push(FieldError::new(
            "email",
            Problem::TooLong {
                max: LOGIN_EMAIL_MAX_CHARS as u32,
            },
        ));
    }
    if password.chars().count() > PASSWORD_MAX_CHARS {
        too_long.push(FieldError::new(
            "password",
            Problem::TooLong {
                max: PASSWORD_MAX_CHARS as u32,
            },
        ));
    }
    if !too_long.is_empty() {
        return Err(AppError::Validation(too_long));
    }
    let email = email.trim().to_lowercase();
    state.limits.login_per_address.check(&client)?;
    state
        .limits
        .login_per_account
        .check(&(email.clone(), client))?;
    let found = {
        let mut db = state.store.read().await?;
        store::accounts::password_hash(&mut db, &email).await?
    };
    let (account_id, stored) = found.unzip();
    // argon2 takes tens of milliseconds of CPU and ~19 MiB: through the gate, off the
    // async workers.
    let matches = state
        .limits
        .password_hashes
        .run(move |workspace| {
            password::verify_in(
                workspace,
                &password,
                stored.as_deref().unwrap_or(&DUMMY_HASH),
            )
        })
        .await?;
    let Some(account_id) = account_id.filter(|_| matches) else {
        tracing::info!(%client, "sign-in refused");
        return Err(AppError::BadCredentials);
    };
    let (token, token_hash) = new_secret(secrets::SESSION_TOKEN);
    let now = Utc::now();
    let mut db = state.store.read().await?;
    store::accounts::insert_session(
        &mut db,
        &token_hash,
        &account_id,
        &timestamp(now),
        &timestamp(now + Duration::hours(SESSION_HOURS)),
    )
    .await?;
    let account = store::accounts::account(&mut db, &account_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    Ok((token, account))
}

/// Ends a session, and this instance's streams of it at once (any other instance's at
/// its next check).
pub async fn sign_out(state: &AppState, who: &OperatorAuth) -> Result<(), AppError> {
    let mut db = state.store.read().await?;
    store::accounts::delete_session(&mut db, &who.credential).await?;
    state.streams.revoke(&who.credential);
    Ok(())
}

/// A single-use ticket, valid for a minute, to open the caller's live stream with
/// `EventSource`, which cannot send an `Authorization` header.
pub async fn stream_ticket(state: &AppState, who: &Caller) -> Result<StreamTicket, AppError> {
    let (ticket, hash) = new_secret(secrets::STREAM_TICKET);
    let expires = timestamp(Utc::now() + Duration::seconds(STREAM_TICKET_SECONDS.into()));
    let (account_id, conversation_id, credential) = match who {
        Caller::Visitor(v) => (None, Some(v.conversation_id.as_str()), &v.credential),
        Caller::Operator(o) => (Some(o.account.id.as_str()), None, &o.credential),
    };
    let mut db = state.store.read().await?;
    store::accounts::insert_stream_ticket(
        &mut db,
        &hash,
        account_id,
        conversation_id,
        credential,
        &expires,
    )
    .await?;
    Ok(StreamTicket {
        ticket,
        expires_in_seconds: STREAM_TICKET_SECONDS,
    })
}

/// Spends a stream ticket: whoever asked for it, if it is fresh and unused and their
/// session still holds.
pub async fn redeem_ticket(state: &AppState, ticket: &str) -> Result<Caller, AppError> {
    let mut db = state.store.read().await?;
    let holder =
        store::accounts::redeem_stream_ticket(&mut db, &hash_secret(ticket), &secrets::now())
            .await?;
    drop(db);
    match holder {
        Some((Some(_), _, credential)) => {
            let account = session_account(state, &credential)
                .await?
                .ok_or(AppError::Unauthorized)?;
            Ok(Caller::Operator(OperatorAuth {
                account,
                credential,
            }))
        }
        Some((None, Some(conversation_id), credential)) => {
            let mut db = state.store.read().await?;
            let (brand_id, visitor_name) =
                store::conversations::visitor_of(&mut db, &conversation_id)
                    .await?
                    .ok_or(AppError::Unauthorized)?;
            Ok(Caller::Visitor(VisitorAuth {
                conversation_id,
                brand_id,
                visitor_name,
                credential,
            }))
        }
        _ => Err(AppError::Unauthorized),
    }
}

/// Deletes sessions and stream tickets past their expiry.
pub async fn prune_expired(state: &AppState) -> Result<u64, AppError> {
    let mut db = state.store.read().await?;
    Ok(store::accounts::prune(&mut db, &secrets::now()).await?)
}
