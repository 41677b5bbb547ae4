//! Writing output files so that a failure never leaves a half-written file or damages the
//! one that was there: each file is written to a temporary file beside it, flushed to disk,
//! then renamed into place. A symlink at the destination is replaced, never written
//! through (so `-o` pointing into the Hugging Face cache cannot overwrite a shared blob).

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context as _;

/// Writes `path` through `write`, atomically: readers see the old file or the whole new
/// one, never a part.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let temporary = tempfile::Builder::new()
        .prefix(".faceemo-")
        .suffix(".part")
        .tempfile_in(folder)
        .with_context(|| format!("cannot create a temporary file beside {path:?}"))?;
    let mut writer = BufWriter::new(temporary);
    write(&mut writer).with_context(|| format!("cannot write {path:?}"))?;
    let temporary = writer
        .into_inner()
        .map_err(std::io::IntoInnerError::into_error)
        .with_context(|| format!("cannot write {path:?}"))?;
    // A temporary file is private (0600); the finished one gets the destination's
    // permissions when it replaces a file, else the usual 0644.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let permissions = std::fs::symlink_metadata(path)
            .ok()
            .filter(std::fs::Metadata::is_file)
            .map_or_else(
                || std::fs::Permissions::from_mode(0o644),
                |m| m.permissions(),
            );
        temporary
            .as_file()
            .set_permissions(permissions)
            .with_context(|| format!("cannot set the permissions of {path:?}"))?;
    }
    temporary
        .as_file()
        .sync_all()
        .with_context(|| format!("cannot flush {path:?} to disk"))?;
    temporary
        .persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot move the finished file into place at {path:?}"))?;
    Ok(())
}

/// Writes rows of cells as a CSV file, atomically.
pub fn write_csv_atomically(
    path: &Path,
    header: &[String],
    rows: &[Vec<String>],
) -> anyhow::Result<()> {
    write_atomically(path, |out| {
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record(header)?;
        for row in rows {
            csv.write_record(row)?;
        }
        csv.flush()?;
        Ok(())
    })
}

/// Writes `image` as a PNG, atomically. An empty image is refused.
pub fn write_png_atomically(image: &image::RgbImage, path: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        image.width() > 0 && image.height() > 0,
        "cannot save an empty picture to {path:?}"
    );
    write_atomically(path, |out| {
        let mut bytes = Vec::new();
        image.write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )?;
        out.write_all(&bytes)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_keeps_the_old_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out.csv");
        std::fs::write(&path, "old").expect("write");
        let result = write_atomically(&path, |out| {
            out.write_all(b"half")?;
            anyhow::bail!("disk on fire")
        });
        assert!(result.is_err());
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "old");
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_new_file_is_readable_by_others_and_a_replaced_one_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let fresh = dir.path().join("fresh.csv");
        write_atomically(&fresh, |out| Ok(out.write_all(b"x")?)).expect("write");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&fresh), 0o644);
        std::fs::set_permissions(&fresh, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        write_atomically(&fresh, |out| Ok(out.write_all(b"y")?)).expect("write");
        assert_eq!(mode(&fresh), 0o640);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_at_the_destination_is_replaced_not_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blob = dir.path().join("blob");
        std::fs::write(&blob, "shared").expect("write");
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&blob, &link).expect("symlink");
        write_csv_atomically(&link, &["a".to_owned()], &[vec!["1".to_owned()]]).expect("write");
        assert_eq!(std::fs::read_to_string(&blob).expect("read"), "shared");
        assert_eq!(std::fs::read_to_string(&link).expect("read"), "a\n1\n");
    }
}
