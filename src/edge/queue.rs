//! The ingest queue in the worker: the producer ([`QueueSpool`], a
//! Cloudflare Queue behind the core's [`Spool`]) and the consumer's shell
//! ([`consume`]: each message through [`crate::usecases::queue::deliver`],
//! then acknowledged or retried). No business rule here.

use chrono::Utc;
use worker::{
    console_error, console_log, console_warn, Env, MessageBatch, MessageBuilder, MessageExt, Queue, QueueContentType,
    QueueRetryOptionsBuilder, SendMessage,
};

use super::env;
use crate::spool::{Spool, SpoolError, SpoolFuture};
use crate::usecases::queue::{deliver, Delivery};

/// The producer binding of wrangler.toml's `[[queues.producers]]`.
pub const QUEUE_BINDING: &str = "INGEST_QUEUE";

/// How long a message the database refused waits before its next delivery.
const RETRY_DELAY_SECONDS: u32 = 5;

pub struct QueueSpool(Queue);

impl Spool for QueueSpool {
    fn send(&self, messages: Vec<String>) -> SpoolFuture<'_> {
        Box::pin(async move {
            // Text, not JSON: the message is already JSON, and its size is what the core measured.
            let batch: Vec<SendMessage<String>> = messages
                .into_iter()
                .map(|m| MessageBuilder::new(m).content_type(QueueContentType::Text).build())
                .collect();
            self.0.send_batch(batch).await.map_err(|e| SpoolError(e.to_string()))
        })
    }
}

/// The queue behind ingest, when the deployment binds one.
pub fn spool(env: &Env) -> Option<Box<dyn Spool>> {
    env.queue(QUEUE_BINDING)
        .ok()
        .map(|q| Box::new(QueueSpool(q)) as Box<dyn Spool>)
}

/// Stores each message of a batch; acknowledges the stored ones and retries
/// the others (after `max_retries` they go to the dead-letter queue). Never
/// fails: an `Err` from the queue handler would abort the isolate.
pub async fn consume(batch: MessageBatch<String>, env: &Env) {
    let store = match env::store(env) {
        Ok(store) => store,
        Err(_) => {
            batch.retry_all();
            return;
        }
    };
    let now = Utc::now();
    let retry = QueueRetryOptionsBuilder::new()
        .with_delay_seconds(RETRY_DELAY_SECONDS)
        .build();
    let (mut stored, mut retried) = (0, 0);
    for message in batch.raw_iter() {
        let delivery = match message.body().as_string() {
            Some(body) => deliver(&store, &body, now).await,
            None => Delivery::Unreadable("not a text message".into()),
        };
        match delivery {
            Delivery::Stored { .. } => {
                message.ack();
                stored += 1;
            }
            Delivery::Retry(why) => {
                console_warn!("queue: message {} retried: {why}", message.id());
                message.retry_with_options(&retry);
                retried += 1;
            }
            Delivery::Unreadable(why) => {
                console_error!(
                    "queue: message {} unreadable, retried toward the dead-letter queue: {why}",
                    message.id()
                );
                message.retry();
                retried += 1;
            }
        }
    }
    console_log!("queue: {stored} messages stored, {retried} retried");
}

/// The dead-letter queue of wrangler.toml (`dead_letter_queue` of the ingest consumer).
pub const DEAD_LETTER_QUEUE: &str = "funnel-ingest-dlq";

/// The dead-letter queue's consumer: never drops. Each message is written to the
/// archive bucket ([`crate::usecases::dead_letter::keep`]) and acknowledged only
/// then; without the bucket, or when the put fails, it is retried.
pub async fn keep_dead_letters(batch: MessageBatch<String>, env: &Env) {
    let Some(archive) = super::archive::bucket(env) else {
        console_error!(
            "dead letters retried: no archive bucket bound ({})",
            super::archive::ARCHIVE_BINDING
        );
        batch.retry_all();
        return;
    };
    let now = Utc::now();
    for message in batch.raw_iter() {
        let body = message
            .body()
            .as_string()
            .unwrap_or_else(|| format!("{:?}", message.body()));
        match crate::usecases::dead_letter::keep(&*archive, &message.id(), &body, now).await {
            Ok(key) => {
                console_warn!(
                    "dead letter {} kept at {key}; POST /internal/dead-letter/replay delivers it",
                    message.id()
                );
                message.ack();
            }
            Err(e) => {
                console_error!("dead letter {} retried: {e}", message.id());
                message.retry();
            }
        }
    }
}
