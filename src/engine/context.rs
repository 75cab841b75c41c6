//! What the workers of one run share: the plan, the settings, the network side (clients,
//! hosts, rate limit), the store side (directories, file threads), the event sender and the
//! cancellation phase.

use super::cancel::Cancel;
use super::config::EngineConfig;
use super::groups::Groups;
use super::naming::Names;
use super::net::Net;
use super::store::{Dirs, FileThreads};
use crate::event::{Event, EventSender};
use crate::plan::Plan;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub(super) struct Ctx {
    pub plan: Arc<Plan>,
    pub config: Arc<EngineConfig>,
    pub net: Net,
    pub events: EventSender,
    pub cancel: Cancel,
    /// Whether "this server takes no ranges: one connection" was already said.
    no_split_said: AtomicBool,
    /// Destination directories: created once, listed once.
    pub dirs: Dirs,
    /// Store small bodies beside the network work.
    pub files: FileThreads,
    /// Destinations taken by names the server gave.
    pub names: Names,
    /// Groups a member of which failed for good.
    pub groups: Groups,
}

impl Ctx {
    pub fn new(
        plan: Arc<Plan>,
        config: Arc<EngineConfig>,
        net: Net,
        events: EventSender,
        cancel: Cancel,
    ) -> Ctx {
        Ctx {
            plan,
            config,
            net,
            events,
            cancel,
            no_split_said: AtomicBool::new(false),
            dirs: Dirs::default(),
            files: FileThreads::default(),
            names: Names::default(),
            groups: Groups::default(),
        }
    }

    pub fn emit(&self, event: Event) {
        // The receiver only goes away when the caller stopped listening; nothing to do then.
        self.events.send(event);
    }

    /// `--split` asked for several connections but the server cannot do ranges (or gave no
    /// length or validator): said once per run, then each such file uses one connection.
    pub fn say_once_no_split(&self, url: &url::Url) {
        if !self.no_split_said.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "{} does not support ranges (or sends no length or validator); downloading with one connection",
                super::net::host_key(url)
            );
        }
    }
}
