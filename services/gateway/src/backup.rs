//! `heard backup` and `heard restore`: the commands around `heard_eventstore::backup`.
//!
//! A backup holds the whole log, every person's key (and every tombstone) and the server key
//! (`secret.key`), encrypted under the configured passphrase; each person's key is sealed again
//! under their backup key in the keyring beside the erasure register, which erasing them
//! destroys (see `heard_eventstore::erasure_register::BackupKeyring`). Read models and the search index
//! are not in it: a restore rebuilds them from the log, as a start after deleting them does.
//! A backup is written to `FILE.partial-…` beside `FILE` and renamed into place only when
//! whole and synced; a restore is written to a hidden directory beside `--data` and renamed into
//! place only once the chain verifies and every model is rebuilt, so a failed command leaves
//! nothing behind.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use heard_eventstore::backup::{self, BackupKeyring, ErasureRegister, Manifest, Reader, Writer};
use heard_eventstore::{BackendKind, EventStore, SubjectId, Upcasters, verify_chain};
use serde_json::json;

use crate::config::Settings;
use crate::data_dir::StorePlace;

/// The files of a data directory a backup carries besides the log and the keys.
const FILES: &[&str] = &["secret.key"];

/// What `heard backup` was asked.
pub struct BackupArgs {
    pub to: PathBuf,
    pub data: Option<PathBuf>,
    pub store_url: Option<String>,
    pub config: Option<PathBuf>,
}

/// What `heard restore` was asked.
pub struct RestoreArgs {
    pub from: PathBuf,
    pub data: PathBuf,
    pub config: Option<PathBuf>,
    pub erasures: Vec<PathBuf>,
    pub without_erasure_register: bool,
}

fn settings(config: Option<&Path>) -> anyhow::Result<Settings> {
    let settings = Settings::load(config, std::env::vars())?;
    settings.validate().map_err(anyhow::Error::msg)?;
    Ok(settings)
}

fn seconds_since(started: std::time::Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0
}

/// `heard backup --to FILE`.
pub async fn back_up(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let settings = settings(args.config.as_deref())?;
    let passphrase = settings.backup.passphrase().map_err(anyhow::Error::msg)?;
    let Some(register) = settings.backup.erasure_register.clone() else {
        anyhow::bail!(
            "backup.erasure_register: name the erasure register in the config before taking a backup. A backup \
             holds each person's key sealed under a key of theirs kept beside the register (REGISTER.keys), \
             which erasing them destroys, so that no backup can bring an erased person back"
        );
    };
    // Made now if it is new (with its keyring), so that a restore finds it even before any
    // erasure has written to it.
    ErasureRegister::open(&register).map_err(|error| anyhow::anyhow!("backup.erasure_register: {error}"))?;
    let keyring = BackupKeyring::beside(&register);
    let (place, flag) = StorePlace::chosen(args.data, args.store_url, args.config.as_deref())?;
    if args.to.as_os_str().is_empty() || args.to.is_dir() {
        anyhow::bail!("--to: give the backup file's path, not a folder");
    }
    if args.to.exists() {
        anyhow::bail!("--to: {} already exists; a backup never overwrites another", args.to.display());
    }
    let folder = match args.to.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = args.to.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let partial = folder.join(format!(".{name}.partial-{}", uuid::Uuid::new_v4().simple()));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .map_err(|error| anyhow::anyhow!("--to: cannot write in {}: {error}", folder.display()))?;
    let written = write_backup(file, &passphrase, &place, flag, &settings, &keyring).await;
    let (file, counts, head, checksum) = match written {
        Ok(written) => written,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
    };
    let renamed = file
        .sync_all()
        .and_then(|()| std::fs::rename(&partial, &args.to))
        .and_then(|()| std::fs::File::open(&folder)?.sync_all());
    if let Err(error) = renamed {
        let _ = std::fs::remove_file(&partial);
        anyhow::bail!("--to: cannot finish {}: {error}", args.to.display());
    }
    println!(
        "{}",
        json!({
            "backup": args.to.display().to_string(),
            "events": counts.events,
            "keys": counts.keys,
            "erased_keys": counts.destroyed,
            "head_position": head.position,
            "head": hex::encode(head.hash),
            "sha256": checksum,
            "seconds": seconds_since(started),
        })
    );
    Ok(ExitCode::SUCCESS)
}

type Written = (std::fs::File, backup::Counts, heard_eventstore::Head, String);

async fn write_backup(
    file: std::fs::File,
    passphrase: &str,
    place: &StorePlace,
    flag: &str,
    settings: &Settings,
    keyring: &Path,
) -> anyhow::Result<Written> {
    let passphrase = passphrase.to_owned();
    let out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut writer = tokio::task::spawn_blocking(move || Writer::new(out, passphrase.as_bytes())).await??;
    let (backend, data_dir) = match place {
        StorePlace::Dir(dir) => match BackendKind::detect(dir) {
            Some(kind) => (kind, dir.clone()),
            None => anyhow::bail!("{flag}: {} holds no Heard event log", dir.display()),
        },
        StorePlace::Postgres(_) => (BackendKind::Postgres, settings.data_dir.clone()),
    };
    writer.manifest(&Manifest {
        taken_at: jiff::Timestamp::now().to_string(),
        heard_version: env!("CARGO_PKG_VERSION").to_owned(),
        backend: format!("{backend:?}").to_lowercase(),
    })?;
    for name in FILES {
        match std::fs::read(data_dir.join(name)) {
            Ok(bytes) => writer.file(name, &bytes)?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => anyhow::bail!("cannot read {}: {error}", data_dir.join(name).display()),
        }
    }
    let head = match backend {
        // Read from its files, so a running Heard need not stop.
        BackendKind::Segments => {
            let keyring = keyring.to_owned();
            tokio::task::spawn_blocking(move || {
                let head = backup::back_up_segments_unlocked(&data_dir, &mut writer, &keyring)?;
                Ok::<_, heard_eventstore::Error>((writer, head))
            })
            .await??
        }
        _ => {
            let store = match place.open_existing(flag).await {
                Err(error) if matches!(error.downcast_ref(), Some(heard_eventstore::Error::Locked)) => anyhow::bail!(
                    "{flag}: a sled log cannot be read while Heard runs on it: stop Heard, then back it up"
                ),
                opened => opened?,
            };
            let head = backup::back_up_store(&store, &mut writer, keyring).await;
            store.close().await?;
            (writer, head?)
        }
    };
    let (writer, head) = head;
    let (out, counts, checksum) = tokio::task::spawn_blocking(move || writer.finish()).await??;
    let file = out.into_inner().map_err(|error| anyhow::anyhow!("cannot write the backup: {}", error.error()))?;
    Ok((file, counts, head, checksum))
}

/// The subjects the erasure registers name (the configured one and `--erasures`), and the
/// backup keyring beside the first of them; nothing with `--without-erasure-register`, and
/// refuses to guess when none is named.
fn erased_since(args: &RestoreArgs, settings: &Settings) -> anyhow::Result<(Vec<SubjectId>, Option<PathBuf>)> {
    if args.without_erasure_register {
        if !args.erasures.is_empty() {
            anyhow::bail!("--erasures and --without-erasure-register: give one of them, not both");
        }
        return Ok((Vec::new(), None));
    }
    let registers: Vec<(&Path, &str)> = settings
        .backup
        .erasure_register
        .iter()
        .map(|path| (path.as_path(), "backup.erasure_register"))
        .chain(args.erasures.iter().map(|path| (path.as_path(), "--erasures")))
        .collect();
    if registers.is_empty() {
        anyhow::bail!(
            "name the erasure register to apply (--erasures FILE, or backup.erasure_register in the config): \
             without it, anyone erased after this backup was taken would come back. If there is none, \
             say so with --without-erasure-register"
        );
    }
    let keyring = registers.first().map(|(path, _)| BackupKeyring::beside(path));
    let mut subjects = Vec::new();
    for (path, source) in registers {
        subjects.extend(ErasureRegister::read(path).map_err(|error| anyhow::anyhow!("{source}: {error}"))?);
    }
    Ok((subjects, keyring))
}

/// `heard restore --from FILE --data DIR`.
pub async fn restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let settings = settings(args.config.as_deref())?;
    let passphrase = settings.backup.passphrase().map_err(anyhow::Error::msg)?;
    let (erased, keyring) = erased_since(&args, &settings)?;
    let target = &args.data;
    let empty_dir = target.is_dir()
        && std::fs::read_dir(target).map_err(|error| anyhow::anyhow!("--data: {error}"))?.next().is_none();
    if target.exists() && !empty_dir {
        anyhow::bail!("--data: {} already holds something; restore into a new or empty directory", target.display());
    }
    let from = args.from.clone();
    let checksum = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&from).map_err(|error| anyhow::anyhow!("--from: {error}"))?;
        backup::checksum_of(std::io::BufReader::with_capacity(1 << 20, file))
            .map_err(|error| anyhow::anyhow!("--from: {error}"))
    })
    .await??;

    let folder = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = target.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let staging = folder.join(format!(".{name}.restoring-{}", uuid::Uuid::new_v4().simple()));
    let restored = restore_into(&args.from, &passphrase, (&erased, keyring.as_deref()), &staging, &settings).await;
    let restored = match restored {
        Ok(restored) => restored,
        Err(error) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(error);
        }
    };
    let moved = (|| {
        if empty_dir {
            std::fs::remove_dir(target)?;
        }
        std::fs::rename(&staging, target)?;
        std::fs::File::open(&folder)?.sync_all()
    })();
    if let Err(error) = moved {
        let _ = std::fs::remove_dir_all(&staging);
        anyhow::bail!("--data: cannot move the restored store into {}: {error}", target.display());
    }
    println!(
        "{}",
        json!({
            "data": target.display().to_string(),
            "taken_at": restored.manifest.taken_at,
            "events": restored.counts.events,
            "keys": restored.counts.keys - restored.erased_again,
            "erased_keys": restored.counts.destroyed,
            "erased_again": restored.erased_again,
            "head_position": restored.head.position,
            "head": hex::encode(restored.head.hash),
            "chain": "verified",
            "sha256": checksum,
            "seconds": seconds_since(started),
        })
    );
    Ok(ExitCode::SUCCESS)
}

async fn restore_into(
    from: &Path,
    passphrase: &str,
    (erased, keyring): (&[SubjectId], Option<&Path>),
    staging: &Path,
    settings: &Settings,
) -> anyhow::Result<backup::Restored> {
    std::fs::create_dir(staging)
        .map_err(|error| anyhow::anyhow!("--data: cannot create {}: {error}", staging.display()))?;
    let file = std::fs::File::open(from).map_err(|error| anyhow::anyhow!("--from: {error}"))?;
    let passphrase = passphrase.to_owned();
    let mut reader = tokio::task::spawn_blocking(move || {
        Reader::new(std::io::BufReader::with_capacity(1 << 20, file), passphrase.as_bytes())
    })
    .await?
    .map_err(|error| anyhow::anyhow!("--from: {error}"))?;
    let store = EventStore::open(staging, Upcasters::new())?;
    let restored = backup::restore(&mut reader, &store, erased, keyring, |name, bytes| {
        if !FILES.contains(&name) {
            return Err(heard_eventstore::Error::Backup {
                detail: "the backup holds a file Heard does not know".into(),
            });
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(staging.join(name))
            .and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()))
            .map_err(|error| heard_eventstore::Error::Backup { detail: format!("cannot write {name}: {error}") })
    })
    .await;
    let restored = match restored {
        Ok(restored) => restored,
        Err(error) => {
            let _ = store.close().await;
            anyhow::bail!("--from: {error}");
        }
    };
    let chain = verify_chain(&store, None).await?;
    if !chain.ok || chain.events != restored.head.position || chain.head != hex::encode(restored.head.hash) {
        let _ = store.close().await;
        anyhow::bail!("--from: the restored log does not verify: {}", chain.reason.unwrap_or_default());
    }
    // Every read model and the search index, rebuilt from the restored log by opening the
    // services over it; closing the store saves them.
    let settings = Settings { data_dir: staging.to_owned(), ..settings.clone() };
    let services = match crate::services::Services::open(&store, &settings).await {
        Ok(services) => services,
        Err(error) => {
            let _ = store.close().await;
            return Err(error);
        }
    };
    store.close().await?;
    services.stopped().await;
    Ok(restored)
}
