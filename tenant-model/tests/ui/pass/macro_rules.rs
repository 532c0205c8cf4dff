//! The derives work when invoked from inside a `macro_rules!` macro: the
//! generated code must not mix locals of different hygiene (a local made
//! with the field type's span is invisible to code made at the call site).
#![deny(warnings)]

use tenant_model::prelude::*;

macro_rules! models {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($body:tt)* }) => {
        #[derive(TenantModel, Debug, Clone, PartialEq)]
        $(#[$meta])*
        $vis struct $name { $($body)* }
    };
}

macro_rules! pg_enum {
    ($name:ident { $($variant:ident),* }) => {
        #[derive(PgEnum, Debug, Clone, Copy, PartialEq)]
        pub enum $name { $($variant),* }
    };
}

pg_enum!(Status { Open, Closed });

models! {
    #[tenant_model(global)]
    pub struct Region {
        #[tenant_model(primary_key, max_length = 8)]
        pub code: String,
        pub name: String,
    }
}

models! {
    #[tenant_model(soft_delete(by = Self), unique(title), index(created_at desc))]
    pub struct Ticket {
        #[tenant_model(primary_key)]
        pub id: Uuid,
        #[tenant_model(max_length = 200)]
        pub title: String,
        pub body: Option<String>,
        #[tenant_model(default = 0)]
        pub votes: i32,
        #[tenant_model(default = "open")]
        pub status: Status,
        pub labels: Vec<String>,
        #[tenant_model(references = Ticket, on_delete = set_null)]
        pub parent_id: Option<Uuid>,
        #[tenant_model(references = Region)]
        pub region_code: String,
        pub due: Option<DateTime<Utc>>,
    }
}

fn main() {
    let ticket = Ticket {
        id: Uuid::nil(),
        title: "t".to_owned(),
        body: None,
        votes: 1,
        status: Status::Open,
        labels: vec!["a".to_owned()],
        parent_id: None,
        region_code: "eu".to_owned(),
        due: None,
    };
    assert_eq!(ticket.insert_values().len(), 9);
    assert_eq!(ticket.key_values().len(), 1);
    assert_eq!(Ticket::insert_arrays(&[ticket.clone(), ticket]).len(), 9);
    assert_eq!(Ticket::DEF.table, "tickets");
    assert_eq!(Ticket::DEF.foreign_keys.len(), 2);
    assert_eq!(Region::DEF.primary_key, ["code"]);
    let _ = (Ticket::TITLE, Ticket::DELETED_BY_ID, Region::NAME, Status::Closed);
    assert!(Schema::new().model::<Ticket>().create_sql().contains("CREATE TABLE regions"));
}
