//! The write paths that return only once a change is on disk: what the API calls so that a 200 means durable,
//! and what the set-notifies stage may await. Both apply the change to memory first (so readers see it at once)
//! and then wait for the group commit that covers the record the store's change hook queued.

use super::log::DurableLog;
use super::StorageError;
use crate::nflog::{NotificationLog, Receiver};
use crate::silences::{PostableSilence, SilenceError, Silences};
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// A silence operation failed validation, or the change could not be made durable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurableError {
    /// As from [`Silences`]; the API maps it exactly as before.
    #[error(transparent)]
    Silence(#[from] SilenceError),
    /// The change is in memory but may not be on disk: answer 500.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// [`Silences`] with durable writes.
#[derive(Debug, Clone)]
pub struct DurableSilences {
    pub(crate) silences: Arc<Silences>,
    pub(crate) log: DurableLog,
}

impl DurableSilences {
    /// The in-memory store, for reads (queries, muting) and gossip.
    pub fn silences(&self) -> &Arc<Silences> {
        &self.silences
    }

    pub fn log(&self) -> &DurableLog {
        &self.log
    }

    /// [`Silences::set`], returning once the new or updated silence (and an expired predecessor) is fsynced.
    pub async fn set(&self, post: PostableSilence) -> Result<String, DurableError> {
        let id = self.silences.set(post)?;
        self.log.sync().await?;
        Ok(id)
    }

    /// [`Silences::expire`], returning once the expiry is fsynced.
    pub async fn expire(&self, id: &str) -> Result<(), DurableError> {
        self.silences.expire(id)?;
        self.log.sync().await?;
        Ok(())
    }

    /// Waits until every change made so far (local or merged from peers) is on disk.
    pub async fn sync(&self) -> Result<(), StorageError> {
        self.log.sync().await
    }
}

/// [`NotificationLog`] with durable writes.
#[derive(Debug, Clone)]
pub struct DurableNflog {
    pub(crate) nflog: Arc<NotificationLog>,
    pub(crate) log: DurableLog,
}

impl DurableNflog {
    pub fn nflog(&self) -> &Arc<NotificationLog> {
        &self.nflog
    }

    pub fn log(&self) -> &DurableLog {
        &self.log
    }

    /// [`NotificationLog::log`], returning once the entry is fsynced (if it was written).
    pub async fn log_notification(
        &self,
        receiver: &Receiver,
        group_key: &str,
        firing: HashSet<u64>,
        resolved: HashSet<u64>,
        expiry: Duration,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let written = self.nflog.log(receiver, group_key, firing, resolved, expiry, now);
        if written {
            self.log.sync().await?;
        }
        Ok(written)
    }

    /// Waits until every entry logged so far is on disk.
    pub async fn sync(&self) -> Result<(), StorageError> {
        self.log.sync().await
    }
}
