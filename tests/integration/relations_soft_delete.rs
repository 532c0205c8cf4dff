//! Soft delete followed through relations: a parent's soft delete takes
//! its cascading soft-delete children along, in one transaction, and its
//! restore brings back exactly those.

use tenant_model::prelude::*;
use tenant_model::Executor;

use crate::support::{app_db, count, seeded_with, Seed};

/// A project with tasks (soft delete, cascade) and files (no soft delete).
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "projects", soft_delete)]
#[tenant_model(has_many(tasks = Task), has_many(files = ProjectFile))]
pub struct Project {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub name: String,
}

/// A task of a project, with comments and watchers.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "tasks", soft_delete, has_many(comments = Comment))]
#[tenant_model(many_to_many(watchers = crate::models::User, through = TaskWatcher))]
pub struct Task {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = Project, on_delete = cascade)]
    pub project_id: Uuid,
    pub title: String,
}

/// A comment on a task.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "task_comments", soft_delete)]
pub struct Comment {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = Task, on_delete = cascade)]
    pub task_id: Uuid,
    pub body: String,
}

/// A user watching a task (a link model with soft delete).
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "task_watchers", soft_delete, link(Task, crate::models::User))]
pub struct TaskWatcher {
    #[tenant_model(primary_key, references = Task, on_delete = cascade)]
    pub task_id: Uuid,
    // Not `cascade`: `User` declares no relation to watchers, so its soft
    // delete could not follow one, and `Schema::check` refuses that
    // (`UndeclaredSoftDeleteCascade`, tested in `schema::tests`).
    #[tenant_model(primary_key, references = crate::models::User, on_delete = restrict)]
    pub user_id: Uuid,
}

/// A file of a project: no soft delete, so it stays when the project is
/// soft-deleted.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "project_files")]
pub struct ProjectFile {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = Project, on_delete = cascade)]
    pub project_id: Uuid,
    pub name: String,
}

pub fn schema() -> Schema {
    crate::models::schema()
        .model::<Project>()
        .model::<Task>()
        .model::<Comment>()
        .model::<TaskWatcher>()
        .model::<ProjectFile>()
}

fn task(project: Uuid, title: &str) -> Task {
    Task {
        id: Uuid::now_v7(),
        project_id: project,
        title: title.to_owned(),
    }
}

fn comment(task: Uuid, body: &str) -> Comment {
    Comment {
        id: Uuid::now_v7(),
        task_id: task,
        body: body.to_owned(),
    }
}

struct Tree {
    project: Uuid,
    tasks: [Uuid; 3],
    comments: [Uuid; 3],
}

/// A project with three tasks; tasks 0 and 2 have comments (two, one);
/// Ann watches task 0; the project has a file.
async fn tree(seed: &Seed, db: &Db) -> Tree {
    let mut scope = db.tenant(seed.tenant_a);
    let project = scope
        .insert(Project {
            id: Uuid::now_v7(),
            name: "Apollo".into(),
        })
        .await
        .unwrap()
        .id;
    let tasks = [
        task(project, "design"),
        task(project, "build"),
        task(project, "launch"),
    ];
    scope.insert_many(&tasks).await.unwrap();
    let comments = [
        comment(tasks[0].id, "first"),
        comment(tasks[0].id, "second"),
        comment(tasks[2].id, "third"),
    ];
    scope.insert_many(&comments).await.unwrap();
    scope
        .insert(TaskWatcher {
            task_id: tasks[0].id,
            user_id: seed.user_a,
        })
        .await
        .unwrap();
    scope
        .insert(ProjectFile {
            id: Uuid::now_v7(),
            project_id: project,
            name: "plan.pdf".into(),
        })
        .await
        .unwrap();
    Tree {
        project,
        tasks: tasks.map(|t| t.id),
        comments: comments.map(|c| c.id),
    }
}

/// The ids of deleted rows of `table`, as the superuser sees them.
async fn deleted(seed: &Seed, table: &str) -> Vec<String> {
    let su = seed.db.superuser().await.unwrap();
    let rows = su
        .query(
            &format!("SELECT id::text FROM {table} WHERE is_deleted ORDER BY id"),
            &[],
        )
        .await
        .unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

fn ids(ids: &[Uuid]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_parents_soft_delete_follows_through_and_its_restore_brings_back_exactly_those() {
    let seed = seeded_with(schema()).await;
    let db = app_db(&seed.db, 2);
    let t = tree(&seed, &db).await;
    let by = Some(seed.user_a);

    // Task 2 is deleted on its own first (its comment goes with it).
    db.tenant(seed.tenant_a)
        .soft_delete::<Task>(t.tasks[2], by)
        .await
        .unwrap();
    assert_eq!(deleted(&seed, "task_comments").await, ids(&[t.comments[2]]));

    // Task 1 on its own, then the project, in one transaction: the same
    // `now()`, but each delete has its own stamp.
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    tx.soft_delete::<Task>(t.tasks[1], by).await.unwrap();
    let project = tx.soft_delete::<Project>(t.project, by).await.unwrap();
    let task0 = tx.find_with_deleted_task(t.tasks[0]).await;
    assert_eq!(task0.deleted_at(), project.deleted_at());
    assert_eq!(task0.deleted_by_id(), by);
    tx.commit().await.unwrap();

    assert_eq!(deleted(&seed, "tasks").await, ids(&t.tasks));
    assert_eq!(deleted(&seed, "task_comments").await, ids(&t.comments));
    let su = seed.db.superuser().await.unwrap();
    assert_eq!(
        count(&su, "SELECT count(*) FROM task_watchers WHERE is_deleted").await,
        1
    );
    // Files have no soft delete: they stay, pointing at the hidden project.
    assert_eq!(count(&su, "SELECT count(*) FROM project_files").await, 1);

    // Loads hide the deleted tasks unless asked.
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    let project = Project::query()
        .with_deleted()
        .with((Project::TASKS, Project::TASKS.with_deleted()))
        .first(&mut tx)
        .await
        .unwrap()
        .unwrap();
    let (live, all) = &project.related;
    assert!(live.is_empty());
    assert_eq!(all.len(), 3);
    // A deleted parent is no parent, unless asked for.
    let tasks = Task::query()
        .with_deleted()
        .with((Task::PROJECT, Task::PROJECT.with_deleted()))
        .all(&mut tx)
        .await
        .unwrap();
    assert_eq!(tasks.len(), 3);
    for task in &tasks {
        let (hidden, shown) = &task.related;
        assert!(hidden.is_none());
        assert_eq!(shown.as_ref().map(|p| p.id), Some(t.project));
    }
    tx.commit().await.unwrap();

    // The restore brings back the project, task 0, its comments and its
    // watcher; not tasks 1 and 2 (deleted on their own) nor comment 2.
    db.tenant(seed.tenant_a)
        .restore::<Project>(t.project)
        .await
        .unwrap();
    assert_eq!(deleted(&seed, "projects").await, ids(&[]));
    assert_eq!(deleted(&seed, "tasks").await, ids(&t.tasks[1..]));
    assert_eq!(deleted(&seed, "task_comments").await, ids(&[t.comments[2]]));
    assert_eq!(
        count(&su, "SELECT count(*) FROM task_watchers WHERE is_deleted").await,
        0
    );
}

#[tokio::test]
async fn the_cascade_is_one_transaction_on_a_scope() {
    let seed = seeded_with(schema()).await;
    let db = app_db(&seed.db, 2);
    let t = tree(&seed, &db).await;
    // Comments refuse to change: the cascade fails half way.
    let su = seed.db.superuser().await.unwrap();
    if crate::support::on_citus() {
        // Citus refuses triggers on distributed tables: a constraint that
        // no soft-deleted comment can meet refuses the change instead.
        su.batch_execute(
            "ALTER TABLE task_comments ADD CONSTRAINT refuse CHECK (NOT is_deleted) NOT VALID",
        )
        .await
        .unwrap();
    } else {
        su.batch_execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$; \
             CREATE TRIGGER refuse BEFORE UPDATE ON task_comments FOR EACH ROW EXECUTE FUNCTION refuse();",
        )
        .await
        .unwrap();
    }
    db.tenant(seed.tenant_a)
        .soft_delete::<Project>(t.project, None)
        .await
        .unwrap_err();
    assert_eq!(deleted(&seed, "projects").await, ids(&[]));
    assert_eq!(deleted(&seed, "tasks").await, ids(&[]));
}

#[tokio::test]
async fn the_cascade_stays_in_the_tenant() {
    let seed = seeded_with(schema()).await;
    let db = app_db(&seed.db, 2);
    let t = tree(&seed, &db).await;
    // Tenant B holds a project and a task with the same keys.
    let su = seed.db.superuser().await.unwrap();
    su.execute(
        "INSERT INTO projects (id, tenant_id, name) VALUES ($1, $2, 'B')",
        &[&t.project, &seed.tenant_b],
    )
    .await
    .unwrap();
    su.execute(
        "INSERT INTO tasks (id, tenant_id, project_id, title) VALUES ($1, $2, $3, 'B task')",
        &[&t.tasks[0], &seed.tenant_b, &t.project],
    )
    .await
    .unwrap();
    db.tenant(seed.tenant_a)
        .soft_delete::<Project>(t.project, None)
        .await
        .unwrap();
    let b_deleted = count(
        &su,
        &format!(
            "SELECT count(*) FROM tasks WHERE tenant_id = '{}' AND is_deleted",
            seed.tenant_b
        ),
    )
    .await;
    assert_eq!(b_deleted, 0);
    db.tenant(seed.tenant_a)
        .restore::<Project>(t.project)
        .await
        .unwrap();
}

trait FindDeleted {
    async fn find_with_deleted_task(&mut self, id: Uuid) -> Record<Task>;
}

impl FindDeleted for Tx {
    async fn find_with_deleted_task(&mut self, id: Uuid) -> Record<Task> {
        Task::query()
            .only_deleted()
            .filter(Task::ID.eq(id))
            .first(self)
            .await
            .unwrap()
            .unwrap()
    }
}
