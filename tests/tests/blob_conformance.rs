//! Runs every blob store conformance case on both adapters: `disk::<case>` on a fresh
//! temporary folder, `s3::<case>` on a fresh bucket of one moto server shared by the whole
//! test binary (starting moto takes a second or two; a bucket takes milliseconds), and
//! `decorated::<case>` on the test decorator wrapping a folder, which must be transparent.
//!
//! Needs moto (`PANTAU_MOTO_SERVER`, or the workspace's `.venv`); without it the S3 cases
//! fail with a message saying how to install it.

use std::sync::OnceLock;

use pantau::store::disk::DiskBlobStore;
use pantau::store::s3::S3BlobStore;
use pantau::store::testing::FaultyBlobStore;
use pantau_tests::moto::MotoServer;
use tokio::sync::Mutex;

/// The binary's moto server, started by the first S3 case that needs it.
static MOTO: OnceLock<Result<Mutex<Option<MotoServer>>, String>> = OnceLock::new();

// Statics are never dropped, so `MotoServer`'s own Drop would not run and moto would outlive
// the tests. The C library runs `atexit` handlers when the test harness exits, pass or fail.
unsafe extern "C" {
    fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
}

extern "C" fn stop_moto() {
    // No test runs any more, so the lock is free.
    if let Some(Ok(server)) = MOTO.get()
        && let Ok(mut server) = server.try_lock()
    {
        drop(server.take());
    }
}

/// A store on a new, empty bucket of the binary's moto server (started on first use). The
/// client is built per test: each test has its own runtime, and a client's connections
/// belong to the runtime that opened them.
async fn s3_store() -> S3BlobStore {
    let server = MOTO.get_or_init(|| {
        let server = MotoServer::start().map_err(|e| format!("{e:#}"))?;
        // SAFETY: registers a function without arguments or unwinding, as `atexit` expects.
        unsafe { atexit(stop_moto) };
        Ok(Mutex::new(Some(server)))
    });
    let client = match server {
        Ok(server) => match server.lock().await.as_ref() {
            Some(server) => server.s3().await,
            None => panic!("moto was already stopped"),
        },
        Err(e) => panic!("moto is needed for the S3 cases: {e}"),
    };
    let store = S3BlobStore::new(client, format!("conformance-{:016x}", fastrand::u64(..)));
    store.create_bucket_if_missing().await.unwrap();
    // Twice: creating a bucket that is already ours is not an error.
    store.create_bucket_if_missing().await.unwrap();
    store
}

/// One test per case and adapter, named `disk::<case>`, `decorated::<case>` and `s3::<case>`.
macro_rules! conformance {
    ($($case:ident),+ $(,)?) => {
        mod disk {
            use super::*;
            $(
                #[tokio::test]
                async fn $case() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = DiskBlobStore::new(dir.path().join("blobs")).unwrap();
                    pantau_tests::conformance::blob::$case(&store).await;
                }
            )+
        }
        mod decorated {
            use super::*;
            $(
                #[tokio::test]
                async fn $case() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = FaultyBlobStore::new(DiskBlobStore::new(dir.path().join("blobs")).unwrap());
                    pantau_tests::conformance::blob::$case(&store).await;
                }
            )+
        }
        mod s3 {
            use super::*;
            $(
                #[tokio::test]
                async fn $case() {
                    let store = s3_store().await;
                    pantau_tests::conformance::blob::$case(&store).await;
                }
            )+
        }
    };
}

conformance!(
    round_trip,
    missing_is_none,
    head_gives_size_and_metadata,
    overwrite_replaces_body_and_metadata,
    list_pages_through_a_prefix,
    list_prefix_within_a_name,
    keys_with_odd_characters,
    invalid_input_is_refused,
);
