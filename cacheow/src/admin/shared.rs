//! A data dir and the shared tier (the `redis` feature, at
//! `CACHEOW_REDIS_URL`): its state, uploads and downloads of outcomes, and
//! the shared deletions, which a program's own deletions never make.

use std::time::Duration;

use serde::Serialize;

use super::DataDir;
use crate::model::canonical::canonical_json;
use crate::model::error::Error;
use crate::model::ids;
use crate::model::outcome::Flags;
use crate::model::secret_url::without_password;
use crate::model::time::now_millis;
use crate::runtime::load::read_outcome_files;
use crate::store::files;
use crate::store::functions;
use crate::store::shared::admin::{SharedAdmin, Uploaded};

/// What the shared tier holds of one function: `cacheow shared status`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SharedFunction {
    /// Its id.
    pub id: String,
    /// Its path, as the program that pushed it names it.
    pub name: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// How many outcomes Redis holds.
    pub outcomes: usize,
}

/// The shared tier: `cacheow shared status`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SharedStatus {
    /// Its URL, without the password.
    pub url: String,
    /// Whether it answered.
    pub reachable: bool,
    /// Why not, when it did not.
    pub error: Option<String>,
    /// What it holds, by function.
    pub functions: Vec<SharedFunction>,
}

/// What a push or a pull moved of one function.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Moved {
    /// The function's id.
    pub function_id: String,
    /// How many outcomes.
    pub outcomes: usize,
    /// The values left out, and why (a pull of values that do not replay).
    pub problems: Vec<String>,
}

impl DataDir {
    /// The shared tier's URL without its password, whether it answers, and
    /// what it holds.
    ///
    /// # Errors
    ///
    /// [`Error::NoSharedTier`] when `CACHEOW_REDIS_URL` is not set.
    pub fn shared_status(&self) -> Result<SharedStatus, Error> {
        let url = self.shared_url()?;
        match SharedAdmin::open(url, &self.manager.settings().redis_prefix).and_then(|mut admin| admin.functions()) {
            Ok(functions) => {
                let functions = functions
                    .into_iter()
                    .map(|f| SharedFunction { id: f.id, name: f.name, tags: f.tags, outcomes: f.outcomes })
                    .collect();
                Ok(SharedStatus { url: without_password(url), reachable: true, error: None, functions })
            }
            Err(error) => Ok(SharedStatus {
                url: without_password(url),
                reachable: false,
                error: Some(error.to_string()),
                functions: Vec::new(),
            }),
        }
    }

    /// Uploads the outcomes of one function, or of every shared function
    /// of the data dir, to the shared tier: those recorded by calls, and
    /// within their ttl. Counts Redis already has are kept.
    pub fn push(&self, function_id: Option<&str>) -> Result<Vec<Moved>, Error> {
        let mut admin = self.shared_admin()?;
        let runtime = self.runtime();
        let mut moved = Vec::new();
        for row in runtime.functions()? {
            if function_id.is_some_and(|id| id != row.id) {
                continue;
            }
            if row.policy.shared == Some(false) {
                if function_id.is_some() {
                    return Err(Error::NotShared { function: row.qualified_name });
                }
                continue;
            }
            let mut outcomes = read_outcome_files(runtime.data_dir(), &row.id)?.outcomes;
            outcomes.retain(|outcome| outcome.flags == Flags::default());
            let ttl = row.policy.ttl_ms.map(Duration::from_millis);
            let function = Uploaded { id: &row.id, name: &row.qualified_name, tags: &row.policy.tags, ttl };
            let sent = admin.upload(&function, outcomes, now_millis())?;
            if sent == 0 && function_id.is_none() {
                continue;
            }
            moved.push(Moved { function_id: row.id.clone(), outcomes: sent, problems: Vec::new() });
        }
        match function_id {
            Some(id) if moved.is_empty() => Err(Error::UnknownFunction { id: id.to_owned() }),
            _ => Ok(moved),
        }
    }

    /// Downloads what the shared tier holds of one function, or of every
    /// function it holds, into the data dir: to seed a CI runner or a new
    /// laptop. Values that do not replay are left out, with why.
    pub fn pull(&self, function_id: Option<&str>) -> Result<Vec<Moved>, Error> {
        let mut admin = self.shared_admin()?;
        let known = admin.functions()?;
        let function_ids = match function_id {
            Some(id) => vec![id.to_owned()],
            None => known.iter().map(|function| function.id.clone()).collect(),
        };
        let runtime = self.runtime();
        let mut moved = Vec::new();
        for id in function_ids {
            crate::runtime::check_id(&id)?;
            let (outcomes, problems) = admin.download(&id)?;
            let name = known.iter().find(|f| f.id == id).map_or(id.as_str(), |f| f.name.as_str());
            for outcome in &outcomes {
                files::write_outcome(runtime.data_dir(), name, &id, outcome)?;
            }
            if !outcomes.is_empty() {
                let mut watched = runtime.lock()?;
                if !functions::exists(&watched.conn, &id)? {
                    runtime.register_from_files(&mut watched.conn, &id)?;
                }
                drop(watched);
                runtime.rebuild_index(&id)?;
            }
            moved.push(Moved { function_id: id, outcomes: outcomes.len(), problems });
        }
        Ok(moved)
    }

    /// Deletes every outcome the shared tier holds of a function, for every
    /// machine; how many.
    pub fn shared_clear(&self, function_id: &str) -> Result<usize, Error> {
        crate::runtime::check_id(function_id)?;
        self.shared_admin()?.clear(function_id)
    }

    /// Deletes every outcome the shared tier holds of the functions tagged
    /// `tag`, for every machine; how many.
    pub fn shared_clear_tag(&self, tag: &str) -> Result<usize, Error> {
        let mut admin = self.shared_admin()?;
        let tagged: Vec<String> = admin
            .functions()?
            .into_iter()
            .filter(|function| function.tags.iter().any(|t| t == tag))
            .map(|function| function.id)
            .collect();
        tagged.iter().map(|id| admin.clear(id)).sum()
    }

    /// Deletes the outcomes the shared tier holds of a function for these
    /// arguments (as its outcomes show them), for every machine; how many.
    pub fn shared_invalidate(&self, function_id: &str, args: &serde_json::Value) -> Result<usize, Error> {
        crate::runtime::check_id(function_id)?;
        self.shared_admin()?.invalidate(function_id, ids::arg_key(&canonical_json(args)))
    }

    fn shared_url(&self) -> Result<&str, Error> {
        self.manager.settings().redis_url.as_deref().ok_or(Error::NoSharedTier)
    }

    fn shared_admin(&self) -> Result<SharedAdmin, Error> {
        SharedAdmin::open(self.shared_url()?, &self.manager.settings().redis_prefix)
    }
}
