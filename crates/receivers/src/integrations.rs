//! `build`: a receiver's config → its integrations. One line per integration type; adding one touches its
//! config struct, its module here, this match, and its conformance test.

use crate::dingtalk::DingTalk;
use crate::discord::Discord;
use crate::email::{Email, EmailSettings};
use crate::feishu::Feishu;
use crate::jira::Jira;
use crate::msteams::MsTeams;
use crate::msteamsv2::MsTeamsV2;
use crate::opsgenie::OpsGenie;
use crate::pagerduty::Pagerduty;
use crate::pushover::Pushover;
use crate::rocketchat::Rocketchat;
use crate::slack::Slack;
use crate::sns::Sns;
use crate::telegram::Telegram;
use crate::victorops::VictorOps;
use crate::webex::Webex;
use crate::webhook::{Webhook, WebhookSettings};
use crate::wechat::Wechat;
use crate::wecom::Wecom;
use std::sync::Arc;
use tocsin_config::{IntegrationRef, Receiver};
use tocsin_model::clock::SharedClock;
use tocsin_pipeline::notifier::Notifier;
use tocsin_template::Template;

/// One configured integration, identified upstream-style as `<receiver>/<kind>/<index>`.
#[derive(Debug, Clone)]
pub struct Integration {
    /// The integration type name (`webhook`, `email`, …): the `integration` label of the notification metrics.
    pub kind: &'static str,
    /// Position within its type list.
    pub index: usize,
    pub notifier: Arc<dyn Notifier>,
}

impl From<Integration> for tocsin_pipeline::Integration {
    /// The pipeline's view of the same integration (name and index identify it in the notification log).
    fn from(i: Integration) -> Self {
        tocsin_pipeline::Integration::new(i.kind, u32::try_from(i.index).unwrap_or(u32::MAX), i.notifier)
    }
}

/// All integrations of `receiver`, in the receiver's declaration order. Never fails: a problem a config can
/// still hold after validation (an unreadable `_file`, a template that fails on the data) fails its sends,
/// visibly and counted, rather than the reload.
///
/// `template` is the application's template set (defaults plus the config's `templates:` files), rebuilt on
/// every reload; `clock` signs requests (DingTalk, Feishu) and dates emails.
pub fn build(receiver: &Receiver, template: &Arc<Template>, clock: &SharedClock) -> Vec<Integration> {
    receiver
        .integrations()
        .into_iter()
        .map(|i| {
            let notifier: Arc<dyn Notifier> = match i.config {
                IntegrationRef::Webhook(c) => Arc::new(Webhook::new(WebhookSettings::from_config(c))),
                IntegrationRef::Email(c) => {
                    Arc::new(Email::new(EmailSettings::from_config(c), template.clone(), clock.clone()))
                }
                IntegrationRef::DingTalk(c) => {
                    Arc::new(DingTalk::from_config(c, template.clone(), clock.clone()))
                }
                IntegrationRef::Wecom(c) => Arc::new(Wecom::from_config(c, template.clone())),
                IntegrationRef::Feishu(c) => {
                    Arc::new(Feishu::from_config(c, template.clone(), clock.clone()))
                }
                IntegrationRef::Sns(c) => Arc::new(Sns::from_config(c, template.clone(), clock.clone())),
                IntegrationRef::Jira(c) => Arc::new(Jira::from_config(c, template.clone())),
                IntegrationRef::Slack(c) => Arc::new(Slack::from_config(c, template.clone())),
                IntegrationRef::Discord(c) => Arc::new(Discord::from_config(c, template.clone())),
                IntegrationRef::MsTeams(c) => Arc::new(MsTeams::from_config(c, template.clone())),
                IntegrationRef::MsTeamsV2(c) => Arc::new(MsTeamsV2::from_config(c, template.clone())),
                IntegrationRef::Telegram(c) => Arc::new(Telegram::from_config(c, template.clone())),
                IntegrationRef::Pushover(c) => Arc::new(Pushover::from_config(c, template.clone())),
                IntegrationRef::Webex(c) => Arc::new(Webex::from_config(c, template.clone())),
                IntegrationRef::Wechat(c) => Arc::new(Wechat::from_config(c, template.clone())),
                IntegrationRef::Pagerduty(c) => Arc::new(Pagerduty::from_config(c, template.clone())),
                IntegrationRef::OpsGenie(c) => Arc::new(OpsGenie::from_config(c, template.clone())),
                IntegrationRef::VictorOps(c) => Arc::new(VictorOps::from_config(c, template.clone())),
                IntegrationRef::Rocketchat(c) => Arc::new(Rocketchat::from_config(c, template.clone())),
            };
            Integration { kind: i.type_name(), index: i.index, notifier }
        })
        .collect()
}
