//! `receivers:`: a name plus any number of `<type>_configs` lists.
//!
//! The list of integration types lives in ONE macro invocation below: adding a type (dingtalk, wecom, feishu…)
//! is one line there plus its struct in `integrations/`.

use crate::global::GlobalConfig;
pub use crate::integrations::dingtalk::DingTalkConfig;
pub use crate::integrations::discord::DiscordConfig;
pub use crate::integrations::email::EmailConfig;
pub use crate::integrations::feishu::FeishuConfig;
pub use crate::integrations::jira::JiraConfig;
pub use crate::integrations::msteams::{MsTeamsConfig, MsTeamsV2Config};
pub use crate::integrations::opsgenie::OpsGenieConfig;
pub use crate::integrations::pagerduty::PagerdutyConfig;
pub use crate::integrations::pushover::PushoverConfig;
pub use crate::integrations::rocketchat::RocketchatConfig;
pub use crate::integrations::slack::SlackConfig;
pub use crate::integrations::sns::SnsConfig;
pub use crate::integrations::telegram::TelegramConfig;
pub use crate::integrations::victorops::VictorOpsConfig;
pub use crate::integrations::webex::WebexConfig;
pub use crate::integrations::webhook::WebhookConfig;
pub use crate::integrations::wechat::WechatConfig;
pub use crate::integrations::wecom::WecomConfig;
use crate::integrations::IntegrationConfig;
use serde::{Deserialize, Serialize};
use std::path::Path;

macro_rules! receiver_types {
    ($( $variant:ident => $field:ident : $ty:ty ),* $(,)?) => {
        /// One receiver; fields in upstream's order (the order `/api/v2/status` renders).
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct Receiver {
            #[serde(default)]
            pub name: String,
            $(
                #[serde(default, skip_serializing_if = "Vec::is_empty")]
                pub $field: Vec<$ty>,
            )*
        }

        /// A borrowed integration config of any type.
        #[derive(Debug, Clone, Copy)]
        pub enum IntegrationRef<'a> {
            $( $variant(&'a $ty), )*
        }

        impl IntegrationRef<'_> {
            /// The integration type name (`webhook`, `email`, …).
            pub fn type_name(&self) -> &'static str {
                match self {
                    $( IntegrationRef::$variant(_) => <$ty as IntegrationConfig>::NAME, )*
                }
            }

            pub fn send_resolved(&self) -> bool {
                match self {
                    $( IntegrationRef::$variant(c) => c.send_resolved(), )*
                }
            }
        }

        impl Receiver {
            /// Every integration with its index within its type list (identity `name/type/index`).
            pub fn integrations(&self) -> Vec<Integration<'_>> {
                let mut out = Vec::new();
                $(
                    for (index, c) in self.$field.iter().enumerate() {
                        out.push(Integration { index, config: IntegrationRef::$variant(c) });
                    }
                )*
                out
            }

            pub(crate) fn validate_integrations(&mut self) -> Result<(), String> {
                $( for c in &mut self.$field { c.validate()?; } )*
                Ok(())
            }

            pub(crate) fn inherit(&mut self, g: &GlobalConfig) -> Result<(), String> {
                $( for c in &mut self.$field { c.inherit(g)?; } )*
                Ok(())
            }

            pub(crate) fn resolve_paths(&mut self, base: &Path) {
                $( for c in &mut self.$field { c.resolve_paths(base); } )*
            }
        }
    };
}

receiver_types! {
    Discord => discord_configs: DiscordConfig,
    Email => email_configs: EmailConfig,
    Pagerduty => pagerduty_configs: PagerdutyConfig,
    Slack => slack_configs: SlackConfig,
    Webhook => webhook_configs: WebhookConfig,
    OpsGenie => opsgenie_configs: OpsGenieConfig,
    Wechat => wechat_configs: WechatConfig,
    Pushover => pushover_configs: PushoverConfig,
    VictorOps => victorops_configs: VictorOpsConfig,
    Sns => sns_configs: SnsConfig,
    Telegram => telegram_configs: TelegramConfig,
    Webex => webex_configs: WebexConfig,
    MsTeams => msteams_configs: MsTeamsConfig,
    MsTeamsV2 => msteamsv2_configs: MsTeamsV2Config,
    Jira => jira_configs: JiraConfig,
    Rocketchat => rocketchat_configs: RocketchatConfig,
    DingTalk => dingtalk_configs: DingTalkConfig,
    Wecom => wecom_configs: WecomConfig,
    Feishu => feishu_configs: FeishuConfig,
}

/// One configured integration of a receiver.
#[derive(Debug, Clone, Copy)]
pub struct Integration<'a> {
    /// Position within its type list (`hook/webhook/0`).
    pub index: usize,
    pub config: IntegrationRef<'a>,
}

impl Integration<'_> {
    pub fn type_name(&self) -> &'static str {
        self.config.type_name()
    }
}
