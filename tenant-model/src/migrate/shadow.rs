//! The schema the models describe, as the server would store it.
//!
//! Rather than predict how PostgreSQL deparses a default, a policy or an
//! index predicate, autogenerate asks it: inside the caller's transaction
//! (which is always rolled back), it creates a scratch namespace, puts it
//! alone on the `search_path`, runs [`Schema::create_sql`] there and reads
//! it back with the same reader as the live namespace. Both sides are then
//! deparsed by the same server from the same DDL conventions, so equal
//! schemas compare equal, and `generate -> apply -> generate` is empty by
//! construction.
//!
//! The roles the DDL creates when missing are created in that transaction
//! too, and rolled back with it (`CREATE ROLE` is transactional).

use tokio_postgres::Client;

use crate::error::Error;
use crate::migrate::catalog::read::{read_namespace, set_search_path};
use crate::migrate::catalog::Catalog;
use crate::sql::sql_text::ident;
use crate::Schema;

/// Creates `schema` in a scratch namespace and reads it. The caller is in
/// a transaction it rolls back, and resets the `search_path` afterwards if
/// it needs it.
pub(crate) async fn expected(client: &Client, schema: &Schema) -> Result<Catalog, Error> {
    let ddl = schema.try_create_sql()?;
    let scratch = format!(
        "tm_shadow_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    client
        .batch_execute(&format!("CREATE SCHEMA {}", ident(&scratch)))
        .await?;
    set_search_path(client, &scratch).await?;
    client.batch_execute(&ddl).await?;
    read_namespace(client, &scratch).await
}
