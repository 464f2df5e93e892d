//! Outbound messages: how a queued notice leaves the registry. A log sender (development, or
//! when the state delivers mail another way) and a plain SMTP sender to the state's mail relay.

pub mod smtp;

use serde::Deserialize;

/// How notices are delivered (`[notices]` in the configuration file).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoticeSettings {
    /// `log` (write each notice to the application log and mark it sent) or `smtp`.
    pub sender: SenderKind,
    /// The SMTP relay host (sender `smtp`).
    pub smtp_host: String,
    /// The SMTP relay port.
    pub smtp_port: u16,
    /// The envelope and header sender address.
    pub from: String,
    /// How often the server queues due reminders and delivers the outbox, in minutes (0: never;
    /// `izreg queue-notices` can run from cron instead).
    pub interval_minutes: u32,
}

/// The kinds of sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SenderKind {
    /// Log only.
    Log,
    /// SMTP to a relay.
    Smtp,
}

impl Default for NoticeSettings {
    fn default() -> Self {
        NoticeSettings {
            sender: SenderKind::Log,
            smtp_host: "127.0.0.1".to_owned(),
            smtp_port: 25,
            from: "registry@localhost".to_owned(),
            interval_minutes: 60,
        }
    }
}

/// One message to deliver.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    /// Recipient address.
    pub to: &'a str,
    /// Subject.
    pub subject: &'a str,
    /// Plain-text body.
    pub body: &'a str,
}

/// Why a message was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The relay could not be reached or the connection failed.
    #[error("mail relay unreachable: {0}")]
    Io(#[from] std::io::Error),
    /// The relay refused a command.
    #[error("mail relay refused {command}: {reply}")]
    Refused {
        /// The SMTP command.
        command: &'static str,
        /// The relay's reply.
        reply: String,
    },
    /// The address is not one SMTP can carry (line breaks, no `@`).
    #[error("invalid address")]
    InvalidAddress,
}

/// Delivers one message with the configured sender.
pub fn deliver(settings: &NoticeSettings, message: &Message<'_>) -> Result<(), DeliveryError> {
    match settings.sender {
        SenderKind::Log => {
            tracing::info!(to = message.to, subject = message.subject, "notice (log sender)");
            Ok(())
        }
        SenderKind::Smtp => smtp::send(&settings.smtp_host, settings.smtp_port, &settings.from, message),
    }
}
