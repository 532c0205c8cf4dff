//! Spans and the admin audit log: what they carry, and what they never do
//! (parameter values).

use std::sync::{Arc, Mutex};

use tenant_model::{Executor, Model};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

use crate::models::User;
use crate::support::{app_db, seeded, user};

/// Every span and event as "name: field=value ..." lines.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<String>>>);

impl Capture {
    /// The lines captured so far, one per span, record or event.
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0 += &format!(" {}={:?}", field.name(), value);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut line = Line(format!("span {}:", span.metadata().name()));
        span.record(&mut line);
        let mut lines = self.0.lock().unwrap();
        lines.push(line.0);
        Id::from_u64(lines.len() as u64)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut line = Line(format!("record {}:", span.into_u64()));
        values.record(&mut line);
        self.0.lock().unwrap().push(line.0);
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = Line(format!("event {}:", event.metadata().target()));
        event.record(&mut line);
        self.0.lock().unwrap().push(line.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[tokio::test(flavor = "current_thread")]
async fn spans_name_table_operation_and_tenant_but_no_values() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    // Callsite interest is cached process-wide: a callsite first hit by
    // another test's thread (no subscriber there) may be cached as
    // "never" and skip this thread's subscriber. Recompute it now.
    tracing::callsite::rebuild_interest_cache();

    db.tenant(seed.tenant_a)
        .insert(user("secret.person@acme.test"))
        .await
        .unwrap();
    let found = User::query()
        .filter(User::EMAIL.eq("secret.person@acme.test"))
        .all(&mut db.tenant(seed.tenant_a))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    db.admin("GDPR export, ticket 7")
        .unwrap()
        .run(async |tx| User::query().count(tx).await)
        .await
        .unwrap();

    let lines = capture.0.lock().unwrap().join("\n");
    let tenant = seed.tenant_a.to_string();
    assert!(
        lines.contains(&format!(
            "span tenant_model.statement: table=\"users\" operation=\"insert\" tenant={tenant}"
        )),
        "{lines}"
    );
    assert!(lines.contains("operation=\"select\""), "{lines}");
    assert!(lines.contains("rows=1"), "rows are recorded: {lines}");
    assert!(
        !lines.contains("secret.person"),
        "parameter values never reach spans: {lines}"
    );
    assert!(
        lines.contains(
            "event tenant_model::audit: message=admin transaction reason=GDPR export, ticket 7"
        ),
        "the admin transaction is logged with its reason: {lines}"
    );
}
